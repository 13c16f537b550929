// One TCP connection from accept to close: server selection with failover
// (spec/selection.md §3-5), the non-blocking connect, the relay in both directions with
// half-close, and the close. Engine members; worker thread only.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/errors.h"
#include "tcp/engine.h"
#include "net/socket.h"
#include "tcp/client_io.h"

namespace pen {

using balance::kAbuse;
using balance::kNone;
using tcp::Conn;

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
  std::vector<uint8_t> tried = std::move(c->sel.tried);
  *c = Conn{};
  c->id = id;
  c->gen = gen;
  c->sel.tried = std::move(tried);
  c->sel.tried.clear();
  c->used = true;
  return c;
}

/* A client accepted into a connection slot already reserved in the pool (acceptBatch). */
void Engine::openConn(int fd, const net::Addr& peer) {
  Conn* c = allocConn();
  if (!c) {
    close(fd);
    pool_.releaseConn();
    pool_.refused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  c->number = pool_.takeNumber(index_, c->id);
  pool_.fds.fetch_add(1, std::memory_order_relaxed);
  c->cfd = fd;
  c->client = peer;
  c->lastActiveMs = nowMs_;
  c->action = "choosing a server";
  if (snap_->dummy) {  // tcp/dummy_conn.cc
    startDummy(*c);
    return;
  }
  if ((snap_->http || snap_->hasTls) && !startClientIo(*c)) {  // TLS / -H: tcp/client_conn.cc
    pool_.refused.fetch_add(1, std::memory_order_relaxed);
    closeConn(*c, "out of memory for the TLS/HTTP state");
    return;
  }
  if (!pool_.begin(c->sel, *view_, peer, nowMs_)) {
    pool_.refused.fetch_add(1, std::memory_order_relaxed);
    closeConn(*c, "denied by client_acl");
    return;
  }
  connectNext(*c);
  if (c->used && c->io) kickClientIo(*c);  // the TLS handshake runs while the backend connects
}

/* Connects c to the next server the pool offers, failing over on connects that fail at once;
   on return the connection is connecting, connected, waiting for a descriptor, or closed. */
void Engine::connectNext(Conn& c) {
  for (;;) {
    if (pool_.next(c.sel, *view_, nowMs_) == kNone) {
      if (!c.idler) pool_.refused.fetch_add(1, std::memory_order_relaxed);
      closeConn(c, c.sel.initial == kAbuse ? "denied by client_acl" : "no server available");
      return;
    }
    if (!c.idler && !idlers_.empty() && adoptIdler(c)) return;  // tcp/idlers_conn.cc
    if (startConnect(c) != Try::kFailed || !c.used) return;
  }
}

/* The non-blocking connect to c.sel.server (held: counted in its conn). kFailed: the
   connect failed at once and the pool was told (the selection goes on). */
Engine::Try Engine::startConnect(Conn& c) {
  const ServerConf* sc = conf(c.sel.server);
  c.action = "connecting to the server";
  bool inProgress = false;
  int err = 0;
  net::ConnectOptions opt{snap_->tcpNodelay, snap_->keepalive, snap_->hasSource ? &snap_->source : nullptr};
  net::TransparentBind tb{&c.client};
  if (snap_->transparent && !snap_->hasSource) opt.transparent = &tb;  // `source` wins, as in Pen
  int fd = net::startConnect(sc->addr, opt, inProgress, err);
  if (fd >= 0 && tb.result != net::Transparency::kBound) pool_.transparentFailed(*view_, c.client, c.sel.server, tb, nowMs_);
  if (fd < 0) {
    if (net::outOfDescriptors(err)) {
      pool_.release(c.sel);
      waitForDescriptor(c, err);
      return Try::kWaiting;
    }
    pool_.failed(c.sel, *view_, err, "connect", nowMs_);
    return Try::kFailed;
  }
  c.ufd = fd;
  pool_.fds.fetch_add(1, std::memory_order_relaxed);
  if (!inProgress) {
    connected(c, true);
    return Try::kStarted;
  }
  c.state = tcp::kConnecting;
  setPending(c, true);
  c.connectStartMs = nowMs_;
  if (!c.io && !c.idler && offerWhileConnecting(c)) return Try::kStarted;
  timers_.add(nowMs_ + snap_->timeoutMs, loop::token::make(c.gen, c.id, tcp::kTimerConnect));
  setInterest(c, 1, loop::kWrite);
  return Try::kStarted;
}

/* Counts c in (or out of) the pool's connects in progress (pending_max). */
void Engine::setPending(Conn& c, bool on) {
  if (c.holdsPending == on) return;
  c.holdsPending = on;
  if (on) pool_.addPending();
  else pool_.releasePending();
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
  if (balance::ServerState* st = state(c.sel.server)) st->addBytes(read, 0);
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
    timers_.add(nowMs_ + snap_->timeoutMs, loop::token::make(c.gen, c.id, tcp::kTimerConnect));
  }
  logFdShortage(std::string("backend socket: ") + strerror(err) + "; clients wait until descriptors free up");
  pauseAccepting();
}

void Engine::retryWaiting() {
  if (!fdWaiters_.empty() && fdFreed_) flushQueued();  // this turn's closes free their descriptors first
  while (!fdWaiters_.empty() && fdFreed_) {
    uint64_t w = fdWaiters_.front();
    fdWaiters_.pop_front();
    uint32_t id = uint32_t(w), gen = uint32_t(w >> 32);
    if (id >= slots_.size()) continue;
    Conn& c = *slots_[id];
    if (!c.used || c.gen != gen || !c.waitingFd) continue;
    c.waitingFd = false;
    pool_.restart(c.sel, c.sel.initial);
    retrying_ = true;
    connectNext(c);
    retrying_ = false;
    if (c.used && c.waitingFd) fdFreed_ = false;  // still short: wait for the next free descriptor
  }
}

void Engine::connected(Conn& c, bool relayNow) {
  setPending(c, false);
  c.state = tcp::kConnected;
  c.action = "relaying";
  c.lastActiveMs = nowMs_;
  pool_.succeeded(c.sel.server, "connect succeeded");
  if (c.idler) return idlerConnected(c);
  if (snap_->idleTimeoutSec > 0)
    timers_.add(nowMs_ + snap_->idleTimeoutSec * 1000LL, loop::token::make(c.gen, c.id, tcp::kTimerIdle));
  // Most clients have spoken by now (a request waits in the socket): forward it at once
  // instead of waiting a loop turn for the poller to say so.
  if (relayNow) relay(c, true);
  if (c.used) afterIo(c);
}

/* An asynchronous connect failed (err) or timed out: the pool blacklists the server, and
   the connection fails over as the pool says. */
void Engine::connectFailed(Conn& c, int err) {
  setPending(c, false);
  c.state = 0;
  unqueueAdd(c, 1);
  if (c.umask) poller_->forget(c.ufd);
  c.umask = 0;
  c.muted &= uint8_t(~2u);
  close(c.ufd);
  c.ufd = -1;
  pool_.fds.fetch_sub(1, std::memory_order_relaxed);
  pool_.failed(c.sel, *view_, err, "connect", nowMs_);
  connectNext(c);
}

void Engine::onConnEvent(Conn& c, int side, uint32_t ev) {
  if (c.muted & (1u << side)) {  // nothing wanted here any more: deregister now
    c.muted &= uint8_t(~(1u << side));
    poller_->remove(side ? c.ufd : c.cfd);
    (side ? c.umask : c.cmask) = 0;
    return;
  }
  c.lastActiveMs = nowMs_;
  if (c.dummy) return serveDummy(c);
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
  if (c.idler) return onIdlerEvent(c);
  if ((ev & loop::kHup) && !(ev & loop::kError)) (side == 0 ? c.up : c.down).srcFin = true;
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

/* Pumps one direction (upward: client -> server) and handles its EOF (tcp::pump's
   srcFinished is Dir::srcFin: the poller has reported the source's FIN). With the access log
   on, the client's first chunk, and the first chunk of each later turn, are looked at
   (log/capture.h says which make a record). */
void Engine::relay(Conn& c, bool upward) {
  tcp::Dir& d = upward ? c.up : c.down;
  int src = upward ? c.cfd : c.ufd, dst = upward ? c.ufd : c.cfd;
  if (d.shut) return;
  const tcp::Dir& other = upward ? c.down : c.up;
  d.finFollows = !other.shut && !fastclosesAt(upward);  // else close() ends it: see tcp::pump
  uint64_t before = d.bytes;
  int err = 0;
  if (upward) d.tap = snap_->accessLog && (!c.logged || c.down.bytes != c.loggedDown);
  tcp::Io io = c.io ? tcp::pumpClientIo(c, upward, env_, err) : tcp::pump(d, src, dst, env_, err, d.srcFin);
  takeLine(c);
  if (io == tcp::Io::kError) {
    closeConn(c, c.io ? tcp::clientIoError(c, err) : strerror(err));
    return;
  }
  if (d.more && edges_ && !c.io) comeBack_.push_back(token(c, upward ? 0 : 1));  // no edge would say so
  if (balance::ServerState* st = state(c.sel.server)) {
    uint64_t moved = d.bytes - before;
    st->addBytes(upward ? moved : 0, upward ? 0 : moved);
  }
  if (d.eof) {
    c.state |= upward ? tcp::kClosedDown : tcp::kClosedUp;
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
  const ServerConf* sc = conf(c.sel.server);
  if (sc && (first || log::looksLikeRequest(env_.line))) events_.push(log::accessRecord(c.client, sc->addr, env_.line));
}

/* Whether tcp_fastclose closes the connection at the end of one direction (upward: the
   client's EOF) instead of passing the EOF on. */
bool Engine::fastclosesAt(bool upward) const {
  auto fc = snap_->fastclose;
  return fc == Fastclose::kBoth || fc == (upward ? Fastclose::kDown : Fastclose::kUp);
}

/* After I/O: close when both directions are over (or tcp_fastclose says so), else re-arm. */
void Engine::afterIo(Conn& c) {
  bool quiet = !c.up.pending() && !c.down.pending();
  bool upClose = fastclosesAt(false) && c.down.eof;
  bool downClose = fastclosesAt(true) && c.up.eof;
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
   saves the syscall when the connection closes first, as it mostly does. A first
   registration made in a turn waits for the turn's end (queueAdd()). A plain relay's sockets
   are edge-triggered where the poller can (relay() queues a come-back when pump() leaves
   bytes); TLS, -H, dummy and idler sockets stay level-triggered. */
void Engine::setInterest(Conn& c, int side, uint32_t mask) {
  if (mask && edges_ && !c.io && !c.dummy && !c.idler) mask |= loop::kEdge;  // pump() comes back itself
  int fd = side ? c.ufd : c.cfd;
  uint32_t& cur = side ? c.umask : c.cmask;
  uint8_t bit = uint8_t(1u << side);
  if (fd < 0) return;
  if (mask == 0) {
    if (c.addQueued & bit) {  // never registered: nothing to mute
      unqueueAdd(c, side);
      cur = 0;
    } else if (cur) {
      c.muted |= bit;
    }
    return;
  }
  c.muted &= uint8_t(~bit);
  if (mask == cur) return;
  int e = 0;
  if (cur == 0 || (c.addQueued & bit)) {
    if (!queueAdd(c, side, mask)) e = poller_->add(fd, mask, token(c, side));  // tcp/read_ahead.cc
  } else {
    e = poller_->modify(fd, mask, token(c, side));
  }
  if (e) {
    cur = 0;
    closeConn(c, strerror(e));
    return;
  }
  cur = mask;
}

void Engine::closeConn(Conn& c, const char* why) {
  if (!c.used) return;
  if (snap_->debug >= 2)
    log(2, "connection " + std::to_string(c.number) + " from " + c.client.host() +
               (c.sel.server != kNone ? " to " + balance::Pool::describe(*snap_, c.sel.server) : std::string()) +
               " closed (" + c.action + "): " + why);
  if (c.io) tcp::closeClientIo(c);  // close_notify while the socket is still open
  if (c.idler) idlerGone(c);
  for (int side = 0; side < 2; side++) {
    int fd = side ? c.ufd : c.cfd;
    if (fd < 0) continue;
    unqueueAdd(c, side);
    if (side ? c.umask : c.cmask) poller_->forget(fd);
    closeFd(fd);
    pool_.fds.fetch_sub(1, std::memory_order_relaxed);
  }
  c.cfd = c.ufd = -1;
  c.cmask = c.umask = 0;
  c.muted = 0;
  setPending(c, false);
  pool_.release(c.sel);
  pool_.clientBytes(c.sel.key, c.down.bytes, c.up.bytes);
  tcp::releaseDir(c.up, pipes_, nowMs_);
  tcp::releaseDir(c.down, pipes_, nowMs_);
  c.used = false;
  c.gen++;
  c.state = 0;
  freeSlots_.push_back(c.id);
  pool_.giveBackNumber(c.number);
  pool_.releaseConn();
  fdFreed_ = true;
  if (fdWaiters_.empty()) acceptPausedUntilMs_ = 0;  // a descriptor came free: take clients again
}

}  // namespace pen
