// The Worker hooks, the listener, timers and the JS-facing queries of the Engine (see engine.h).
#include "tcp/engine.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "net/errors.h"
#include "net/socket.h"
#include "tcp/client_io.h"
#include "util/clock.h"

namespace pen {

namespace {
namespace token = loop::token;
using tcp::kSideServer;  // poller token kinds, with token::kListener and token::kWake
constexpr int kAcceptPauseMs = 100;
constexpr uint32_t kScratch = 65536;
}  // namespace

Engine::Engine(balance::Pool& pool, int index, int count, std::unique_ptr<loop::Poller> poller, events::Queue& events,
               bool batchIo)
    : Worker(pool, index, count, std::move(poller), events),
      pipes_(pipeCap(pool, count), pipeBytes(pipeCap(pool, count) * size_t(count)), pool.fds) {
  scratch_.resize(kScratch);
  edges_ = poller_->edges();
  if (batchIo) startReadAhead();  // tcp/read_ahead.cc
  else ioPlainWhy_ = std::string("event backend ") + poller_->name() + " chosen";
  env_ = tcp::RelayEnv{scratch_.data(), kScratch, &pipes_};
}

Engine::~Engine() { stop(); }

/* Each worker's pipes: a quarter of the descriptor budget (2 per pipe), shared by the
   workers, at most 1024 each. */
size_t Engine::pipeCap(const balance::Pool& pool, int count) {
  int64_t cap = pool.fdBudget.load() / 8 / count;
  return size_t(std::clamp<int64_t>(cap, 1, 1024));
}

/* Each splice pipe's capacity, for `pipes` pipes over all workers: see tcp::pipeBytesFor. */
size_t Engine::pipeBytes(size_t pipes) {
  static const size_t maxPipe = [] {  // read once per process, not once per worker
    size_t v = tcp::kDefaultPipeBytes;
    if (FILE* f = fopen("/proc/sys/fs/pipe-max-size", "re")) {
      unsigned long n = 0;
      if (fscanf(f, "%lu", &n) == 1) v = size_t(n);
      fclose(f);
    }
    return v;
  }();
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  uint64_t mem = pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : 0;
  return tcp::pipeBytesFor(maxPipe, mem, pipes);
}

int Engine::turn(const loop::Event* evs, int n) {
  if (!comeBack_.empty()) {  // edge-triggered sides that pump() left with more to read
    merged_.assign(evs, evs + n);
    for (uint64_t t : comeBack_) merged_.push_back(loop::Event{t, loop::kRead});
    comeBack_.clear();
    evs = merged_.data();
    n = int(merged_.size());
  }
  inTurn_ = batch_ != nullptr;
  if (batch_) readAhead(evs, n);  // tcp/read_ahead.cc
  // Backend-side events go last: a client that has already closed is then seen before the
  // backend's EOF, so the FIN reaches a socket its owner has let go of instead of waking
  // the client up just to read it (the common end of a request/response exchange).
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < n; i++) {
      uint64_t t = evs[i].token;
      uint64_t kind = token::kind(t);
      if ((kind == kSideServer) != (pass == 1)) continue;
      if (kind == token::kWake) {
        continue;  // drained by the Worker
      } else if (kind == token::kListener) {
        if (listenMask_) acceptBatch();
      } else {
        uint32_t id = token::slot(t);
        if (id >= slots_.size()) continue;
        tcp::Conn& c = *slots_[id];
        if (!c.used || c.gen != token::gen(t)) continue;  // closed earlier in this batch
        onConnEvent(c, int(kind), evs[i].events);
      }
    }
  }
  if (!aheads_.empty()) settleAheads();
  due_.clear();
  timers_.due(nowMs_, due_);
  for (uint64_t k : due_) onTimer(k);
  retryWaiting();
  if (snap_->idlers > 0 || !idlers_.empty()) keepIdlers();  // tcp/idlers_conn.cc
  armListener();
  if (inTurn_) {
    flushQueued();
    inTurn_ = false;
  }
  int trimIn = pipes_.trim(nowMs_);
  if (!comeBack_.empty()) return 0;  // the next turn at once: no edge will announce them
  return events::sooner(timers_.nextTimeout(util::monotonicMs()), trimIn);
}

void Engine::adoptSnapshot(const Snapshot& prev) {
  env_.dump = snap_->debug >= 3 ? (snap_->ascii ? 2 : 1) : 0;
  if (prev.idleTimeoutSec == 0 && snap_->idleTimeoutSec > 0)
    for (auto& c : slots_)
      if (c->used) timers_.add(c->lastActiveMs + snap_->idleTimeoutSec * 1000LL, token::make(c->gen, c->id, tcp::kTimerIdle));
}

void Engine::adoptListener(int fd) {
  if (listenFd_ >= 0) {
    if (listenMask_) poller_->remove(listenFd_);
    close(listenFd_);
  }
  listenFd_ = fd;
  listenMask_ = 0;
}

bool Engine::inUse(uint32_t id) const { return id < slots_.size() && slots_[id]->used; }

void Engine::closeSlot(uint32_t id, const char* why) { closeConn(*slots_[id], why); }

void Engine::closeAll() {
  for (auto& c : slots_)
    if (c->used) closeConn(*c, "shutting down");
  if (listenFd_ >= 0) {
    if (listenMask_) poller_->remove(listenFd_);
    close(listenFd_);
    listenFd_ = -1;
  }
}

/* The listener is read-armed only while a client could be taken on: below the connection
   limit (-x) and pending_max of the whole process, and not backing off after running out of
   descriptors. Otherwise clients wait in the kernel's backlog (-q) and none is lost. */
void Engine::armListener() {
  if (listenFd_ < 0) return;
  bool want = nowMs_ >= acceptPausedUntilMs_ && fdWaiters_.empty() && pool_.mayAccept(snap_->connMax, snap_->pendingMax);
  uint32_t mask = want ? uint32_t(loop::kRead) : 0u;
  if (mask == listenMask_) return;
  if (mask) {
    if (poller_->add(listenFd_, mask, token::kListener) != 0) return;
  } else {
    poller_->remove(listenFd_);
  }
  listenMask_ = mask;
}

void Engine::acceptBatch() {
  flushQueued();  // the descriptors of this turn's closes first, for the clients taken on now
  for (int i = 0; i < snap_->multiAccept; i++) {
    if (!pool_.mayAccept(snap_->connMax, snap_->pendingMax) || !pool_.reserveConn(snap_->connMax)) return;
    net::Addr peer;
    peer.len = sizeof peer.ss;
    int fd = accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer.ss), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      pool_.releaseConn();
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
      if (net::outOfDescriptors(e)) {
        // Out of descriptors: leave new clients in the backlog and retry shortly (or as soon
        // as a connection closes); never spin, never exit.
        pauseAccepting();
        logFdShortage(std::string("accept: ") + strerror(e) + "; new clients wait until descriptors free up");
        return;
      }
      log(0, std::string("accept: ") + strerror(e));
      return;
    }
    pool_.accepted.fetch_add(1, std::memory_order_relaxed);
    accepted_.fetch_add(1, std::memory_order_relaxed);
    openConn(fd, peer);
  }
}

/* At most one line per 10 s about running out of descriptors. */
void Engine::logFdShortage(const std::string& text) {
  if (lastFdShortageLogMs_ && nowMs_ - lastFdShortageLogMs_ < 10000) return;
  lastFdShortageLogMs_ = nowMs_;
  log(0, text);
}

void Engine::pauseAccepting() {
  acceptPausedUntilMs_ = nowMs_ + kAcceptPauseMs;
  timers_.add(acceptPausedUntilMs_, tcp::kTimerResume);
}

void Engine::onTimer(uint64_t key) {
  uint64_t kind = token::kind(key);
  if (kind == tcp::kTimerResume) {  // retryWaiting() and armListener() run right after the timers
    fdFreed_ = true;
    if (!fdWaiters_.empty()) pauseAccepting();
    return;
  }
  if (kind == tcp::kTimerIdlers) return;  // keepIdlers() runs at the end of the turn
  uint32_t id = token::slot(key);
  if (id >= slots_.size()) return;
  tcp::Conn& c = *slots_[id];
  if (!c.used || c.gen != token::gen(key)) return;
  if (kind == tcp::kTimerConnect) {
    if (nowMs_ - c.connectStartMs < snap_->timeoutMs) return;
    if (c.state & tcp::kConnecting) {
      connectFailed(c, ETIMEDOUT);
    } else if (c.waitingFd) {
      pool_.refused.fetch_add(1, std::memory_order_relaxed);
      closeConn(c, "no descriptor for the backend connection in time");
    }
  } else if (kind == tcp::kTimerIdle) {
    int64_t idle = snap_->idleTimeoutSec * 1000LL;
    if (idle <= 0 || !(c.state & tcp::kConnected) || c.idler) return;
    if (nowMs_ - c.lastActiveMs >= idle) closeConn(c, "idle timeout");
    else timers_.add(c.lastActiveMs + idle, key);
  } else if (kind == tcp::kTimerHandshake) {
    onHandshakeTimer(c);
  }
}

// ---- queries (worker thread, through Worker::call) ----

void Engine::listConnections(std::vector<ConnInfo>& out) {
  for (const auto& c : slots_) {
    if (!c->used) continue;
    out.push_back(ConnInfo{c->number, c->state, c->cfd, c->ufd, c->sel.server, c->sel.initial, c->client.host(),
                           c->down.pending(), c->up.pending(), pool_.clientIndex(c->sel.key)});
  }
}

}  // namespace pen
