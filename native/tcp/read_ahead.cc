// Read ahead: before a turn's events are handled one by one, the worker reads every socket
// whose event would start with a plain read (tcp::pump's copy path), then forwards what came,
// with one system call for all the reads and one for all the sends (loop::IoBatch). pump()
// then takes each result as its first recv() and send(). Small request/response exchanges
// cost two system calls per turn instead of two per event. The sockets closed in a turn are
// closed together at its end (and before it accepts clients), with one more, which also
// registers the turn's new sockets with the poller (epoll): a new connection's two epoll_ctl
// calls ride on it.
// Thread: the worker's (as engine.h).
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "net/socket.h"
#include "tcp/engine.h"

namespace pen {

using tcp::Conn;

namespace {
namespace token = loop::token;
using tcp::kSideClient;
using tcp::kSideServer;
constexpr uint32_t kAheadBytes = 16384;  // per read; a full one makes pump() read on as usual
constexpr size_t kAheadMax = 128;        // reads ahead per turn (2 MiB of buffers per worker)
}  // namespace

/* True when onConnEvent(c, side, events) would begin with pump()'s plain recv() from that
   side: a connected plain relay (no TLS or -H, no dummy, not an idler), read interest on the
   side and no error, and a direction with nothing pending, not spliced, not at EOF. */
bool Engine::canReadAhead(const Conn& c, int side, uint32_t events) const {
  if (!(events & loop::kRead) || (events & loop::kError)) return false;
  if (c.dummy || c.io || c.idler || c.cfd < 0 || c.ufd < 0) return false;
  if ((c.state & tcp::kConnecting) || !(c.state & tcp::kConnected)) return false;
  if ((c.muted & (1u << side)) || !((side ? c.umask : c.cmask) & loop::kRead)) return false;
  const tcp::Dir& d = side == 0 ? c.up : c.down;
  return !d.shut && !d.eof && !d.pending() && !d.spliced() && !d.ahead && !env_.dump;
}

/* Makes the batch (or says in ioPlainWhy_ why there is none). */
void Engine::startReadAhead() {
  const char* why = nullptr;
  batch_ = loop::makeIoBatch(unsigned(kAheadMax), &why);
  if (!batch_) {
    ioPlainWhy_ = why ? why : "no batched I/O here";
    return;
  }
  aheadBuf_.reset(new char[kAheadMax * kAheadBytes]);
  aheads_.reserve(kAheadMax);  // never reallocated: Dir::ahead points into it
  queueAdds_ = batch_->epollAdds() && poller_->epollFd() >= 0;
}

void Engine::readAhead(const loop::Event* evs, int n) {
  aheads_.clear();
  aheadOf_.clear();
  for (int i = 0; i < n && aheads_.size() < kAheadMax && batch_->room() > 0; i++) {
    uint64_t t = evs[i].token, kind = token::kind(t);
    if (kind != kSideClient && kind != kSideServer) continue;
    uint32_t id = token::slot(t);
    if (id >= slots_.size()) continue;
    Conn& c = *slots_[id];
    int side = int(kind);
    if (!c.used || c.gen != token::gen(t) || !canReadAhead(c, side, evs[i].events)) continue;
    tcp::Ahead a;
    a.buf = aheadBuf_.get() + aheads_.size() * kAheadBytes;
    a.cap = kAheadBytes;
    aheads_.push_back(a);
    tcp::Dir& d = side == 0 ? c.up : c.down;
    if (evs[i].events & loop::kHup) d.srcFin = true;  // a FIN (canReadAhead: no kError)
    aheadOf_.push_back(AheadOf{id, c.gen, side == 0});
    d.ahead = &aheads_.back();  // claims the direction for this turn
    batch_->recv(side == 0 ? c.cfd : c.ufd, a.buf, a.cap);
  }
  if (aheads_.empty()) return;
  batchRes_.resize(aheads_.size());
  batch_->submit(batchRes_.data());
  // The sends, as pump() would make them right after each read (MSG_MORE as there).
  std::vector<uint32_t>& sent = aheadSent_;
  sent.clear();
  for (size_t k = 0; k < aheads_.size(); k++) {
    tcp::Ahead& a = aheads_[k];
    a.got = batchRes_[k];
    if (a.got <= 0) continue;
    const AheadOf& of = aheadOf_[k];
    const Conn& c = *slots_[of.id];
    const tcp::Dir& other = of.up ? c.down : c.up;
    a.last = (of.up ? c.up : c.down).srcFin && uint32_t(a.got) < a.cap;
    bool finFollows = !other.shut && !fastclosesAt(of.up);
    batch_->send(of.up ? c.ufd : c.cfd, a.buf, uint32_t(a.got), net::kSendFlags | (a.last && finFollows ? MSG_MORE : 0));
    sent.push_back(uint32_t(k));
  }
  if (sent.empty()) return;
  batch_->submit(batchRes_.data());
  for (size_t j = 0; j < sent.size(); j++) aheads_[sent[j]].sent = batchRes_[j];
}

/* A connection's socket: closed with the turn's other closes when a batch runs the turn,
   else at once. The descriptor stays open (and counted as free) until flushQueued(). */
void Engine::closeFd(int fd) {
  if (inTurn_) closing_.push_back(fd);
  else close(fd);
}

/* The first registration of c's side for `mask`, made with the turn's closes when a batch
   runs the turn and can (queueAdds_). Returns false when the caller must register it now.
   Until then the side's bit in c.addQueued is set: unqueueAdd() before its descriptor leaves
   c another way than closeConn(). */
bool Engine::queueAdd(Conn& c, int side, uint32_t mask) {
  uint8_t bit = uint8_t(1u << side);
  int fd = side ? c.ufd : c.cfd;
  if (c.addQueued & bit) {  // not made yet: it registers this interest instead
    for (size_t i = adds_.size(); i-- > 0;) {
      if (adds_[i].fd != fd) continue;
      adds_[i].interest = mask;
      break;
    }
    return true;
  }
  if (!inTurn_ || !queueAdds_) return false;
  adds_.push_back(QueuedAdd{fd, mask, token(c, side)});
  c.addQueued |= bit;
  return true;
}

/* Drops c's queued registration of side (none made: the poller never saw it). */
void Engine::unqueueAdd(Conn& c, int side) {
  uint8_t bit = uint8_t(1u << side);
  if (!(c.addQueued & bit)) return;
  c.addQueued &= uint8_t(~bit);
  int fd = side ? c.ufd : c.cfd;
  for (size_t i = adds_.size(); i-- > 0;) {
    if (adds_[i].fd != fd) continue;
    adds_.erase(adds_.begin() + long(i));
    break;
  }
}

/* Registers the turn's queued adds, then closes the sockets closeFd() kept, in batches (the
   adds first: every queued add is of an open socket). A registration that fails closes its
   connection (whose sockets go in the next round). */
void Engine::flushQueued() {
  while (!adds_.empty() || !closing_.empty()) {
    addsRun_.swap(adds_);
    closesRun_.swap(closing_);
    size_t nAdds = addsRun_.size(), total = nAdds + closesRun_.size();
    int ep = poller_->epollFd();
    for (size_t i = 0; i < total;) {
      size_t end = std::min(total, i + batch_->room());
      bool batched = end > i;
      if (batched) {
        for (size_t k = i; k < end; k++) {
          if (k < nAdds) batch_->epollAdd(ep, addsRun_[k].fd, addsRun_[k].interest, addsRun_[k].token);
          else batch_->close(closesRun_[k - nAdds]);
        }
        batchRes_.resize(std::max(batchRes_.size(), end - i));
        batch_->submit(batchRes_.data());
      } else {
        end = total;  // the ring failed: plain system calls for the rest
      }
      for (size_t k = i; k < end; k++) {
        int32_t r = batched ? batchRes_[k - i] : -EIO;  // -EIO: not run
        if (k < nAdds) {
          QueuedAdd& a = addsRun_[k];
          a.res = r != -EIO ? r : -poller_->add(a.fd, a.interest, a.token);
        } else if (r == -EIO) {
          close(closesRun_[k - nAdds]);
        }
      }
      i = end;
    }
    for (const QueuedAdd& a : addsRun_) {
      uint64_t t = a.token;
      uint32_t id = token::slot(t);
      int side = int(token::kind(t));
      if (id >= slots_.size()) continue;
      Conn& c = *slots_[id];
      if (!c.used || c.gen != token::gen(t)) continue;
      c.addQueued &= uint8_t(~(1u << side));
      if (a.res == 0) continue;
      (side ? c.umask : c.cmask) = 0;
      closeConn(c, (std::string("epoll_ctl: ") + strerror(-a.res)).c_str());
    }
    addsRun_.clear();
    closesRun_.clear();
  }
}

/* After the turn's events: a read made ahead that no pump() took (its event was not handled
   as expected) is handled now, so that no byte read is left behind. */
void Engine::settleAheads() {
  for (size_t k = 0; k < aheads_.size(); k++) {
    const AheadOf& of = aheadOf_[k];
    Conn& c = *slots_[of.id];
    if (!c.used || c.gen != of.gen) continue;  // closed in this turn: its bytes went with it
    tcp::Dir& d = of.up ? c.up : c.down;
    if (d.ahead != &aheads_[k]) continue;
    relay(c, of.up);
    if (!c.used) continue;
    d.ahead = nullptr;  // in case relay() stopped before pump()
    afterIo(c);
  }
  aheads_.clear();
  aheadOf_.clear();
}

}  // namespace pen
