// One TCP connection from accept to close: server selection with failover
// (spec/selection.md §3-5), the non-blocking connect, the relay in both directions with
// half-close, and the close. Engine members; worker thread only, engine lock held.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine.h"
#include "net/socket.h"
#include "tcp/client_io.h"

namespace pen {

using balance::kAbuse;
using balance::kEmergency;
using balance::kNone;
using tcp::Conn;

namespace {
enum : uint64_t { kTimerConnect = 0, kTimerIdle = 1 };
bool regular(int s) { return s >= 0; }
}  // namespace

uint64_t Engine::token(const Conn& c, int side) const {
  return loop::token::make(c.gen, c.id, side);
}

Conn* Engine::allocConn() {
  Conn* c;
  if (!freeSlots_.empty()) {
    c = slots_[freeSlots_.back()].get();
    freeSlots_.pop_back();
  } else {
    if (slots_.size() >= 0x3fffffff) return nullptr;
    slots_.push_back(std::make_unique<Conn>());
    c = slots_.back().get();
    c->id = uint32_t(slots_.size() - 1);
  }
  uint32_t id = c->id, gen = c->gen;
  std::vector<uint8_t> tried = std::move(c->tried);
  *c = Conn{};
  c->id = id;
  c->gen = gen;
  c->tried = std::move(tried);
  c->tried.clear();
  c->used = true;
  return c;
}

void Engine::openConn(int fd, const net::Addr& peer) {
  Conn* c = allocConn();
  if (!c) {
    close(fd);
    refused_++;
    return;
  }
  active_++;
  c->cfd = fd;
  c->client = peer;
  c->lastActiveMs = nowMs_;
  c->action = "choosing a server";
  if ((snap_->http || snap_->hasTls) && !startClientIo(*c)) {  // TLS / -H: tcp/client_conn.cc
    refused_++;
    closeConn(*c, "out of memory for the TLS/HTTP state");
    return;
  }
  int ci = clients_.touch(peer, nowMs_, snap_->trackingSec);
  int remembered = clients_.at(ci).server;
  int first;
  if (!acl::permits(snap_->acls[size_t(snap_->clientAcl)], clients_.at(ci).key, snap_->geo.get(), c->country)) {
    // Denied: the abuse server if there is one, else closed -- never the emergency server
    // (Pen sends denied clients there when -e is set and -B is not, quirk 20).
    c->initial = kAbuse;
    if (!snap_->hasAbuse || tryServer(*c, kAbuse) != Try::kStarted) {
      if (!c->used) return;
      refused_++;
      closeConn(*c, "denied by client_acl");
    }
    if (c->io) kickClientIo(*c);
    return;
  } else if (snap_->track && regular(remembered) && size_t(remembered) < snap_->servers.size()) {
    first = remembered;
  } else {
    balance::PickContext ctx{*snap_, rt_, clients_.at(ci).key, peer.port(), nowMs_};
    first = algo_->pick(ctx);
  }
  c->initial = first;
  chooseAndConnect(*c, first);
  if (c->io) kickClientIo(*c);  // the TLS handshake runs while the backend connects
}

/* Tries server `first`, then fails over as the algorithm says, then the emergency server.
   On return the connection is connecting, connected, or closed. */
void Engine::chooseAndConnect(Conn& c, int first) {
  int s = first;
  while (s != kNone) {
    if (regular(s)) {
      if (c.tried.size() < snap_->servers.size()) c.tried.resize(snap_->servers.size(), 0);
      c.tried[size_t(s)] = 1;
    }
    Try r = tryServer(c, s);
    if (r == Try::kStarted || r == Try::kWaiting) return;
    if (!c.used) return;  // closed for lack of resources
    if (snap_->stubborn || !regular(s)) break;
    net::AddrKey key = net::keyOf(c.client);
    balance::PickContext ctx{*snap_, rt_, key, c.client.port(), nowMs_, &c.tried, s};
    s = algo_->pick(ctx);
  }
  if (!snap_->stubborn && snap_->hasEmergency && c.server != kEmergency && s != kEmergency) {
    Try r = tryServer(c, kEmergency);
    if (r == Try::kStarted || r == Try::kWaiting || !c.used) return;
  }
  refused_++;
  closeConn(c, "no server available");
}

/* The connect-time checks (spec/selection.md §4) and the non-blocking connect.
   Rejections for limits do not blacklist; a connect that fails at once does. */
Engine::Try Engine::tryServer(Conn& c, int s) {
  const ServerConf* sc = conf(s);
  balance::ServerRuntime* rt = runtime(s);
  if (!sc || !rt || !sc->configured() || sc->addr.disabled()) return Try::kRejected;
  if (rt->blacklisted(nowMs_, snap_->blacklistSec)) return Try::kRejected;
  net::AddrKey key = net::keyOf(c.client);
  if (s != kAbuse && !acl::permits(snap_->acls[size_t(sc->acl)], key, snap_->geo.get(), c.country)) return Try::kRejected;
  int ci = clients_.find(key);
  if (sc->maxc > 0 && rt->conn >= sc->maxc) {
    bool sticky = ci >= 0 && clients_.at(ci).server == s;
    if (!(sticky && rt->conn < sc->hard)) return Try::kRejected;
  }
  c.action = "connecting to the server";
  bool inProgress = false;
  int err = 0;
  int fd = net::startConnect(sc->addr, net::ConnectOptions{snap_->tcpNodelay, snap_->keepalive, snap_->hasSource ? &snap_->source : nullptr}, inProgress, err);
  if (fd < 0) {
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
      waitForDescriptor(c, err);
      return Try::kWaiting;
    }
    serverDown(s, err, "connect");
    return Try::kRejected;
  }
  rt->conn++;
  c.holdsServer = true;
  c.server = s;
  if (regular(s)) current_ = s;
  c.ufd = fd;
  if (regular(s) && ci >= 0) clients_.at(ci).server = s;
  if (!inProgress) {
    connected(c, true);
    return Try::kStarted;
  }
  c.state = tcp::kConnecting;
  pending_++;
  c.connectStartMs = nowMs_;
  if (!c.io && offerWhileConnecting(c)) return Try::kStarted;
  timers_.add(nowMs_ + snap_->timeoutMs, loop::token::make(c.gen, c.id, kTimerConnect));
  setInterest(c, 1, loop::kWrite);
  return Try::kStarted;
}

/* The connect is in progress (plain relay only): hands the backend what the client has
   already sent. A backend that takes it is connected, which saves a poller round trip on
   loopback and fast LANs where the handshake completes inside connect(). Returns true when
   the connection was settled here (connected, failed over, or closed); false leaves it
   connecting, with anything read kept pending in c.up. The bytes read and the access record
   go to the server they end up with: after a refusal, the one the failover settled on. */
bool Engine::offerWhileConnecting(Conn& c) {
  int err = 0;
  uint64_t before = c.up.bytes;
  c.up.tap = snap_->accessLog && !c.logged;
  tcp::Offer r = tcp::offer(c.up, c.cfd, c.ufd, env_, err);
  uint64_t read = c.up.bytes - before;
  if (r == tcp::Offer::kSrcError) {
    env_.line.taken = false;
    closeConn(c, strerror(err));
    return true;
  }
  if (r == tcp::Offer::kDstError) connectFailed(c, err);  // fails over at once, keeping the bytes
  if (!c.used) {
    env_.line.taken = false;
    return true;
  }
  takeLine(c);
  if (balance::ServerRuntime* rt = runtime(c.server)) rt->sx += read;
  if (r == tcp::Offer::kTaken) connected(c, false);
  return r != tcp::Offer::kNothing;
}

/* Out of descriptors for the backend socket: the client keeps its connection and waits (no
   interest registered) until a descriptor comes free, at most the connect timeout; accepting
   pauses meanwhile. retryWaiting() resumes the oldest waiters first. */
void Engine::waitForDescriptor(Conn& c, int err) {
  c.waitingFd = true;
  if (retrying_) {
    fdWaiters_.push_front(uint64_t(c.gen) << 32 | c.id);  // keeps its place in line
  } else {
    c.connectStartMs = nowMs_;
    fdWaiters_.push_back(uint64_t(c.gen) << 32 | c.id);
    timers_.add(nowMs_ + snap_->timeoutMs, loop::token::make(c.gen, c.id, kTimerConnect));
  }
  logFdShortage(std::string("backend socket: ") + strerror(err) + "; clients wait until descriptors free up");
  pauseAccepting();
}

void Engine::retryWaiting() {
  while (!fdWaiters_.empty() && fdFreed_) {
    uint64_t w = fdWaiters_.front();
    fdWaiters_.pop_front();
    uint32_t id = uint32_t(w), gen = uint32_t(w >> 32);
    if (id >= slots_.size()) continue;
    Conn& c = *slots_[id];
    if (!c.used || c.gen != gen || !c.waitingFd) continue;
    c.waitingFd = false;
    c.tried.clear();
    retrying_ = true;
    chooseAndConnect(c, c.initial);
    retrying_ = false;
    if (c.used && c.waitingFd) fdFreed_ = false;  // still short: wait for the next free descriptor
  }
}

void Engine::connected(Conn& c, bool relayNow) {
  if (c.state & tcp::kConnecting) pending_--;
  c.state = tcp::kConnected;
  c.action = "relaying";
  c.lastActiveMs = nowMs_;
  serverUp(c.server, "connect succeeded");
  if (snap_->idleTimeoutSec > 0)
    timers_.add(nowMs_ + snap_->idleTimeoutSec * 1000LL, loop::token::make(c.gen, c.id, kTimerIdle));
  // Most clients have spoken by now (a request waits in the socket): forward it at once
  // instead of waiting a loop turn for the poller to say so.
  if (relayNow) relay(c, true);
  if (c.used) afterIo(c);
}

/* An asynchronous connect failed (err) or timed out: blacklist the server and fail over. */
void Engine::connectFailed(Conn& c, int err) {
  pending_--;
  c.state = 0;
  if (c.umask) poller_->forget(c.ufd);
  c.umask = 0;
  c.muted &= uint8_t(~2u);
  close(c.ufd);
  c.ufd = -1;
  releaseServer(c);
  int failed = c.server;
  serverDown(failed, err, "connect");
  if (snap_->stubborn || !regular(failed)) {
    refused_++;
    closeConn(c, "connect failed");
    return;
  }
  c.server = kNone;
  net::AddrKey key = net::keyOf(c.client);
  balance::PickContext ctx{*snap_, rt_, key, c.client.port(), nowMs_, &c.tried, failed};
  chooseAndConnect(c, algo_->pick(ctx));
}

void Engine::onConnEvent(Conn& c, int side, uint32_t ev) {
  if (c.muted & (1u << side)) {  // nothing wanted here any more: deregister now
    c.muted &= uint8_t(~(1u << side));
    poller_->remove(side ? c.ufd : c.cfd);
    (side ? c.umask : c.cmask) = 0;
    return;
  }
  c.lastActiveMs = nowMs_;
  if (c.io && side == 0 && c.io->ssl) {  // a TLS client socket: tcp/client_conn.cc
    onClientIoEvent(c, ev);
    return;
  }
  if (c.state & tcp::kConnecting) {
    if (side == 1 && (ev & (loop::kWrite | loop::kError | loop::kHup))) {
      // Writable without an error condition means the connect completed.
      int e = (ev & (loop::kError | loop::kHup)) ? net::socketError(c.ufd) : 0;
      if (e == 0 && (ev & loop::kWrite)) connected(c, true);
      else connectFailed(c, e ? e : ECONNREFUSED);
    }
    return;
  }
  bool readable = ev & (loop::kRead | loop::kHup | loop::kError);
  bool writable = ev & (loop::kWrite | loop::kHup | loop::kError);
  uint32_t mask = side == 0 ? c.cmask : c.umask;
  // side 0 is the client: its reads feed the up direction, its writes drain the down one.
  if (readable && (mask & loop::kRead)) {
    relay(c, side == 0);
    if (!c.used) return;
  }
  if (writable && (mask & loop::kWrite)) {
    relay(c, side != 0);
    if (!c.used) return;
  }
  afterIo(c);
}

/* Pumps one direction (upward: client -> server) and handles its EOF. With the access log
   on, the client's first chunk, and the first chunk of each later turn, are looked at
   (log/capture.h says which make a record). */
void Engine::relay(Conn& c, bool upward) {
  tcp::Dir& d = upward ? c.up : c.down;
  int src = upward ? c.cfd : c.ufd, dst = upward ? c.ufd : c.cfd;
  if (d.shut) return;
  uint64_t before = d.bytes;
  int err = 0;
  if (upward) d.tap = snap_->accessLog && (!c.logged || c.down.bytes != c.loggedDown);
  tcp::Io io = c.io ? tcp::pumpClientIo(c, upward, env_, err) : tcp::pump(d, src, dst, env_, err);
  takeLine(c);
  if (io == tcp::Io::kError) {
    closeConn(c, c.io ? tcp::clientIoError(c, err) : strerror(err));
    return;
  }
  if (balance::ServerRuntime* rt = runtime(c.server)) (upward ? rt->sx : rt->rx) += d.bytes - before;
  if (d.eof) {
    c.state |= upward ? tcp::kClosedDown : tcp::kClosedUp;
    const tcp::Dir& other = upward ? c.down : c.up;
    if (!d.pending() && !d.shut && other.shut) {
      d.shut = true;  // both directions are over: close() sends the FIN, no shutdown needed
    } else if (!d.pending() && !d.shut) {
      if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN) {
        closeConn(c, strerror(errno));
        return;
      }
      d.shut = true;
    }
  }
}

/* A request head captured by the last read (env_.line) becomes an access record: the
   connection's first, and later ones that look like a new request. */
void Engine::takeLine(Conn& c) {
  if (!env_.line.taken) return;
  env_.line.taken = false;
  bool first = !c.logged;
  c.logged = true;
  c.loggedDown = c.down.bytes;
  const ServerConf* sc = conf(c.server);
  if (sc && (first || log::looksLikeRequest(env_.line))) events_.push(log::accessRecord(c.client, sc->addr, env_.line));
}

/* After I/O: close when both directions are over (or tcp_fastclose says so), else re-arm. */
void Engine::afterIo(Conn& c) {
  bool quiet = !c.up.pending() && !c.down.pending();
  auto fc = snap_->fastclose;
  bool upClose = (fc == Fastclose::kUp || fc == Fastclose::kBoth) && c.down.eof;
  bool downClose = (fc == Fastclose::kDown || fc == Fastclose::kBoth) && c.up.eof;
  if (c.up.shut && c.down.shut) closeConn(c, "both sides closed");
  else if (quiet && (upClose || downClose)) closeConn(c, "tcp_fastclose");
  else updateInterest(c);
}

void Engine::updateInterest(Conn& c) {
  uint32_t cm = 0, um = 0;
  if (c.state & tcp::kConnected) {
    if (!c.up.eof && !c.up.pending()) cm |= loop::kRead;
    if (c.down.pending()) cm |= loop::kWrite;
    if (!c.down.eof && !c.down.pending()) um |= loop::kRead;
    if (c.up.pending()) um |= loop::kWrite;
    if (c.io) tcp::clientInterest(c, cm, um);
  }
  setInterest(c, 0, cm);
  setInterest(c, 1, um);
}

/* Registers exactly `mask` for one side. A side with nothing to wait for is muted: it stays
   registered until it next fires and is removed then (hang-ups cannot be masked), which
   saves the syscall when the connection closes first, as it mostly does. */
void Engine::setInterest(Conn& c, int side, uint32_t mask) {
  int fd = side ? c.ufd : c.cfd;
  uint32_t& cur = side ? c.umask : c.cmask;
  uint8_t bit = uint8_t(1u << side);
  if (fd < 0) return;
  if (mask == 0) {
    if (cur) c.muted |= bit;
    return;
  }
  c.muted &= uint8_t(~bit);
  if (mask == cur) return;
  int e = 0;
  if (cur == 0) e = poller_->add(fd, mask, token(c, side));
  else e = poller_->modify(fd, mask, token(c, side));
  if (e) {
    cur = 0;
    closeConn(c, strerror(e));
    return;
  }
  cur = mask;
}

void Engine::releaseServer(Conn& c) {
  if (!c.holdsServer) return;
  c.holdsServer = false;
  if (balance::ServerRuntime* rt = runtime(c.server))
    if (rt->conn > 0) rt->conn--;
}

void Engine::closeConn(Conn& c, const char* why) {
  if (!c.used) return;
  if (snap_->debug >= 2)
    log(2, "connection " + std::to_string(c.id) + " from " + c.client.host() + " closed (" + c.action + "): " + why);
  if (c.io) tcp::closeClientIo(c);  // close_notify while the socket is still open
  for (int side = 0; side < 2; side++) {
    int fd = side ? c.ufd : c.cfd;
    if (fd < 0) continue;
    if (side ? c.umask : c.cmask) poller_->forget(fd);
    close(fd);
  }
  c.cfd = c.ufd = -1;
  c.cmask = c.umask = 0;
  c.muted = 0;
  if (c.state & tcp::kConnecting) pending_--;
  releaseServer(c);
  int ci = clients_.find(net::keyOf(c.client));
  if (ci >= 0) {
    clients_.at(ci).sx += c.down.bytes;
    clients_.at(ci).rx += c.up.bytes;
  }
  tcp::releaseDir(c.up, pipes_);
  tcp::releaseDir(c.down, pipes_);
  c.used = false;
  c.gen++;
  c.state = 0;
  freeSlots_.push_back(c.id);
  active_--;
  fdFreed_ = true;
  if (fdWaiters_.empty()) acceptPausedUntilMs_ = 0;  // a descriptor came free: take clients again
}

}  // namespace pen
