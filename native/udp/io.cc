// The datagram paths of the UDP Balancer, batched: client datagrams are read from the
// listener with recvmmsg and leave with one sendmmsg per flow and batch; replies are read
// with recvmmsg per upstream socket and leave through the listener with one sendmmsg per
// batch (several flows' replies together). Balancer members; worker thread, lock held.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "log/capture.h"
#include "udp/balancer.h"

namespace pen::udp {

namespace {
constexpr int kListenerRounds = 8;  // recvmmsg calls per listener event before other work
constexpr int kUpstreamRounds = 4;  // likewise per upstream socket

/* errno values by which a connected UDP socket reports its server unreachable (ICMP). */
bool unreachable(int e) {
  return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN || e == ENETDOWN;
}
/* errno values by which the kernel refuses a GSO send it would take as single datagrams. */
bool gsoRefused(int e) { return e == EINVAL || e == EIO || e == ENOPROTOOPT || e == EOPNOTSUPP || e == EMSGSIZE; }
bool transient(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ENOBUFS || e == ENOMEM; }
}  // namespace

/* Reads client datagrams until the listener is empty (or kListenerRounds full batches). */
void Balancer::readListener() {
  for (int round = 0; round < kListenerRounds && listenFd_ >= 0; round++) {
    int n = in_.recv(listenFd_, 0, true, listenWildcard_);
    if (n <= 0) {
      if (n < 0 && !transient(errno) && snap_->debug >= 2) log(2, std::string("listener: ") + strerror(errno));
      return;
    }
    for (int i = 0; i < n; i++) route(i);
    flushStaged();
    if (n < kBatch) return;  // drained: the poller says when more arrives
  }
}

/* Finds (or opens, or moves) the flow of in_ slot i's sender and stages the datagram on it. */
void Balancer::route(int i) {
  msghdr& m = in_.hdr[size_t(i)].msg_hdr;
  if (m.msg_flags & MSG_TRUNC) {  // cannot happen with 64 KiB slots; never forward a piece
    dropped_++;
    return;
  }
  net::Addr client;
  client.len = m.msg_namelen;
  memcpy(&client.ss, &in_.addr[size_t(i)], m.msg_namelen);
  FlowKey key = flowKeyOf(client);
  Flow* f = flows_.find(key);
  if (f) {
    if (mustMove(*f) && !reselect(*f)) {
      dropped_++;
      return;
    }
  } else if (!(f = openFlow(client, key))) {
    dropped_++;
    return;
  } else if (snap_->accessLog) {  // one access record per flow, from its first datagram
    if (const ServerConf* sc = conf(f->sel.server)) {
      log::Line line;
      log::capture(line, in_.buf(i), in_.hdr[size_t(i)].msg_len);
      events_.push(log::accessRecord(client, sc->addr, line));
    }
  }
  if (listenWildcard_) f->local = localOf(m);
  f->lastActiveMs = nowMs_;
  flows_.touch(*f);
  next_[size_t(i)] = -1;
  if (f->stageEpoch != stageEpoch_) {
    f->stageEpoch = stageEpoch_;
    f->stageHead = f->stageTail = i;
    staged_.push_back(f->id);
  } else {
    next_[size_t(f->stageTail)] = i;
    f->stageTail = i;
  }
}

/* Sends every staged datagram, one sendmmsg per flow, in arrival order within a flow. */
void Balancer::flushStaged() {
  int slots[kBatch];
  for (uint32_t id : staged_) {
    Flow* f = flows_.at(id);
    if (!f || f->stageEpoch != stageEpoch_) continue;  // closed meanwhile, or already sent
    f->stageEpoch = 0;
    int n = 0;
    for (int i = f->stageHead; i >= 0; i = next_[size_t(i)]) slots[n++] = i;
    sendUpstream(*f, slots, n);
  }
  staged_.clear();
  stageEpoch_ = stageEpoch_ + 1 ? stageEpoch_ + 1 : 1;  // 0 means "not staged"
}

/* Sends in_ slots[0..n) to f's server: one sendmmsg per call, consecutive datagrams of one
   size as one GSO entry. An unreachable server fails the flow over and the rest goes to the
   next server; full buffers drop the rest (UDP semantics, counted). */
void Balancer::sendUpstream(Flow& f, const int* slots, int n) {
  uint32_t lens[kBatch];
  for (int i = 0; i < n; i++) lens[i] = in_.hdr[size_t(slots[i])].msg_len;
  int done = 0, failovers = 0;
  while (done < n && f.used && f.fd >= 0) {
    int m = 0;
    for (int j = done; j < n; m++) {
      int run = f.noGso || !gsoBuilt() ? 1 : gsoRun(lens + j, n - j);
      for (int k = 0; k < run; k++) upIov_[size_t(j + k)] = iovec{in_.buf(slots[j + k]), lens[j + k]};
      msghdr& h = upHdr_[size_t(m)].msg_hdr;
      h = msghdr{};
      h.msg_iov = &upIov_[size_t(j)];
      h.msg_iovlen = size_t(run);
      if (run > 1) {
        h.msg_control = upCtrl_[size_t(m)].buf;
        h.msg_controllen = addSegment(upCtrl_[size_t(m)], 0, uint16_t(lens[j]));
      }
      upCount_[size_t(m)] = run;
      j += run;
    }
    int r = sendmmsg(f.fd, upHdr_.data(), unsigned(m), MSG_DONTWAIT);
    if (r > 0) {
      int from = done;
      for (int e = 0; e < r; e++) done += upCount_[size_t(e)];
      uint64_t bytes = 0;
      for (int i = from; i < done; i++) bytes += lens[i];
      f.up += bytes;
      if (balance::ServerState* st = state(f.sel.server)) st->addBytes(bytes, 0);
      continue;
    }
    int e = errno;
    if (e == EINTR) continue;
    if (unreachable(e)) {
      // The error belongs to an earlier datagram; nothing of this call was sent.
      if (++failovers > int(snap_->servers.size()) + 1 || !failover(f, e, false)) break;
      continue;
    }
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENOMEM) break;
    if (upCount_[0] > 1 && gsoRefused(e)) {
      f.noGso = true;  // e.g. a path MTU below the segment size: one datagram per message
      continue;
    }
    if (snap_->debug >= 2) log(2, "sending to " + balance::Pool::describe(*snap_, f.sel.server) + ": " + strerror(e));
    dropped_ += uint64_t(upCount_[0]);  // these cannot be sent (e.g. EMSGSIZE): skip them
    done += upCount_[0];
  }
  dropped_ += uint64_t(n - done);
  if (done > 0 && f.used) {
    int s = slots[done - 1];
    uint32_t len = lens[done - 1];
    if (len <= kResendMax) f.last.assign(in_.buf(s), in_.buf(s) + len);
    else f.last.clear();
  }
}

/* Reads f's server's replies into out_ (flushing it when full) and addresses them to f's
   client. An error on the socket (ICMP unreachable) fails the flow over. */
void Balancer::readUpstream(Flow& f) {
  for (int round = 0; round < kUpstreamRounds; round++) {
    if (outCount_ == kBatch) flushReplies();
    int room = kBatch - outCount_;
    int n = out_.recv(f.fd, outCount_, false, false);
    if (n < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) return;
      if (transient(e)) return;
      failover(f, e, true);
      return;
    }
    uint64_t bytes = 0;
    outGroupSeq_++;
    for (int j = outCount_; j < outCount_ + n; j++) {
      outGroup_[size_t(j)] = outGroupSeq_;  // one read, one flow: one destination
      msghdr& m = out_.hdr[size_t(j)].msg_hdr;
      uint32_t len = out_.hdr[size_t(j)].msg_len;
      bytes += len;
      out_.iov[size_t(j)].iov_len = len;
      memcpy(&out_.addr[size_t(j)], &f.client.ss, f.client.len);
      m.msg_name = &out_.addr[size_t(j)];
      m.msg_namelen = f.client.len;
      size_t cl = listenWildcard_ ? writeLocal(f.local, listenFamily_, out_.ctrl[size_t(j)]) : 0;
      m.msg_control = cl ? out_.ctrl[size_t(j)].buf : nullptr;
      m.msg_controllen = cl;
    }
    outCount_ += n;
    f.down += bytes;
    if (balance::ServerState* st = state(f.sel.server)) st->addBytes(0, bytes);
    if (n > 0) {
      f.lastActiveMs = nowMs_;
      flows_.touch(f);
      pool_.succeeded(f.sel.server, "a reply was received");
      f.replies += uint32_t(n);
      if (snap_->udpResponses > 0 && f.replies >= uint32_t(snap_->udpResponses)) {
        closeFlow(f, "answered (udp_responses)");  // its replies are in out_ already
        return;
      }
    }
    if (n < room) return;
  }
}

/* Sends the gathered replies through the listener, one sendmmsg per batch; consecutive
   replies of one read (one client) and one size go as one GSO entry. Full buffers drop the
   rest (counted); a reply the kernel refuses on its own (e.g. an unreachable client) is
   skipped. */
void Balancer::flushReplies() {
  int sent = 0;
  while (sent < outCount_ && listenFd_ >= 0) {
    int m = 0;
    for (int j = sent; j < outCount_; m++) {
      int run = 1;
      if (replyGso_) {
        uint32_t lens[kBatch];
        int k = 0;
        while (j + k < outCount_ && outGroup_[size_t(j + k)] == outGroup_[size_t(j)]) {
          lens[k] = uint32_t(out_.iov[size_t(j + k)].iov_len);
          k++;
        }
        run = gsoRun(lens, k);
      }
      mmsghdr& e = replyHdr_[size_t(m)];
      e = out_.hdr[size_t(j)];  // address, packet info, and the iovecs from slot j on
      e.msg_hdr.msg_iovlen = size_t(run);
      if (run > 1) {
        size_t used = e.msg_hdr.msg_control ? e.msg_hdr.msg_controllen : 0;
        if (used) memcpy(replyCtrl_[size_t(m)].buf, e.msg_hdr.msg_control, used);
        e.msg_hdr.msg_control = replyCtrl_[size_t(m)].buf;
        e.msg_hdr.msg_controllen = addSegment(replyCtrl_[size_t(m)], used, uint16_t(out_.iov[size_t(j)].iov_len));
      }
      replyCount_[size_t(m)] = run;
      j += run;
    }
    int r = sendmmsg(listenFd_, replyHdr_.data(), unsigned(m), MSG_DONTWAIT);
    if (r > 0) {
      for (int e = 0; e < r; e++) sent += replyCount_[size_t(e)];
      continue;
    }
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENOMEM) break;
    if (replyCount_[0] > 1 && gsoRefused(e)) {
      replyGso_ = false;
      log(1, std::string("UDP GSO refused for replies (") + strerror(e) + "): sending them one by one");
      continue;
    }
    if (snap_->debug >= 2) log(2, std::string("reply: ") + strerror(e));
    dropped_ += uint64_t(replyCount_[0]);
    sent += replyCount_[0];
  }
  dropped_ += uint64_t(outCount_ - sent);
  outCount_ = 0;
}

}  // namespace pen::udp
