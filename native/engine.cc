// The worker loop, the listener and the JS-facing side of the Engine (see engine.h).
#include "engine.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/socket.h"
#include "tcp/client_io.h"
#include "util/clock.h"

namespace pen {

namespace {
// Poller tokens and timer keys: generation << 32 | slot << 2 | kind.
enum : uint64_t { kSideClient = 0, kSideServer = 1, kListener = 2, kWake = 3 };
enum : uint64_t { kTimerConnect = 0, kTimerIdle = 1, kTimerResume = 2 };  // 3: tcp::kTimerHandshake
constexpr int kMaxEvents = 256;
constexpr int kAcceptPauseMs = 100;
constexpr uint32_t kScratch = 65536;
}  // namespace

Engine::Engine(std::unique_ptr<loop::Poller> poller, events::Queue& events)
    : poller_(std::move(poller)), events_(events), snap_(std::make_shared<Snapshot>()) {
  scratch_.resize(kScratch);
  env_ = tcp::RelayEnv{scratch_.data(), kScratch, &pipes_};
  algo_ = balance::makeAlgorithm(snap_->algorithm);
  algoName_ = snap_->algorithm;
}

Engine::~Engine() { stop(); }

bool Engine::start(std::string& err) {
  if (!wakeup_.open(err)) return false;
  if (int e = poller_->add(wakeup_.readFd(), loop::kRead, kWake)) {
    err = std::string("poller: ") + strerror(e);
    return false;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Engine::stop() {
  if (!started_) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  wake();
  thread_.join();
  started_ = false;
  wakeup_.close();
}

void Engine::wake() { wakeup_.notify(); }

void Engine::run() {
  std::vector<loop::Event> evs(kMaxEvents);
  std::vector<uint64_t> due;
  int timeout = -1;
  for (;;) {
    int n = poller_->wait(evs.data(), kMaxEvents, timeout);
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) break;
    nowMs_ = util::monotonicMs();
    applyPending();
    // Backend-side events go last: a client that has already closed is then seen before the
    // backend's EOF, so the FIN reaches a socket its owner has let go of instead of waking
    // the client up just to read it (the common end of a request/response exchange).
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i < n; i++) {
        uint64_t t = evs[i].token;
        uint64_t kind = t & 3;
        if ((kind == kSideServer) != (pass == 1)) continue;
        if (kind == kWake) {
          wakeup_.drain();
        } else if (kind == kListener) {
          if (listenMask_) acceptBatch();
        } else {
          uint32_t id = uint32_t(t >> 2) & 0x3fffffff, gen = uint32_t(t >> 32);
          if (id >= slots_.size()) continue;
          tcp::Conn& c = *slots_[id];
          if (!c.used || c.gen != gen) continue;  // closed earlier in this batch
          onConnEvent(c, int(kind), evs[i].events);
        }
      }
    }
    due.clear();
    timers_.due(nowMs_, due);
    for (uint64_t k : due) onTimer(k);
    retryWaiting();
    armListener();
    int flushIn = events_.flush(nowMs_);
    timeout = events::sooner(timers_.nextTimeout(util::monotonicMs()), flushIn);
  }
  // Shutdown: close every connection and the listener (Pen's TERM behaviour).
  for (auto& c : slots_)
    if (c->used) closeConn(*c, "shutting down");
  if (listenFd_ >= 0) {
    if (listenMask_) poller_->remove(listenFd_);
    close(listenFd_);
    listenFd_ = -1;
  }
  if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
  hasNextListener_ = false;
}

void Engine::applyPending() {
  if (nextSnap_) {
    bool idleWasOff = snap_->idleTimeoutSec == 0;
    snap_ = std::move(nextSnap_);
    nextSnap_.reset();
    if (rt_.size() < snap_->servers.size()) rt_.resize(snap_->servers.size());
    if (rt_.size() > snap_->servers.size()) rt_.resize(snap_->servers.size());
    if (snap_->algorithm != algoName_) {
      if (auto a = balance::makeAlgorithm(snap_->algorithm)) {
        algo_ = std::move(a);
        algoName_ = snap_->algorithm;
      }
    }
    clients_.setCapacity(size_t(snap_->clientsMax));
    env_.dump = snap_->debug >= 3 ? (snap_->ascii ? 2 : 1) : 0;
    if (idleWasOff && snap_->idleTimeoutSec > 0)
      for (auto& c : slots_)
        if (c->used) timers_.add(c->lastActiveMs + snap_->idleTimeoutSec * 1000LL, uint64_t(c->gen) << 32 | uint64_t(c->id) << 2 | kTimerIdle);
  }
  if (hasNextListener_) {
    if (listenFd_ >= 0) {
      if (listenMask_) poller_->remove(listenFd_);
      close(listenFd_);
    }
    listenFd_ = nextListener_;
    listenMask_ = 0;
    nextListener_ = -1;
    hasNextListener_ = false;
  }
  for (uint32_t id : killList_)
    if (id < slots_.size() && slots_[id]->used) closeConn(*slots_[id], "closed by the operator");
  killList_.clear();
}

/* The listener is read-armed only while a client could be taken on: below the connection
   limit (-x), below pending_max, and not backing off after running out of descriptors.
   Otherwise clients wait in the kernel's backlog (-q) and none is lost. */
void Engine::armListener() {
  if (listenFd_ < 0) return;
  bool want = active_ < uint32_t(snap_->connMax) && pending_ < uint32_t(snap_->pendingMax) &&
              nowMs_ >= acceptPausedUntilMs_ && fdWaiters_.empty();
  uint32_t mask = want ? uint32_t(loop::kRead) : 0u;
  if (mask == listenMask_) return;
  if (mask) {
    if (poller_->add(listenFd_, mask, kListener) != 0) return;
  } else {
    poller_->remove(listenFd_);
  }
  listenMask_ = mask;
}

void Engine::acceptBatch() {
  for (int i = 0; i < snap_->multiAccept; i++) {
    if (active_ >= uint32_t(snap_->connMax) || pending_ >= uint32_t(snap_->pendingMax)) return;
    net::Addr peer;
    peer.len = sizeof peer.ss;
    int fd = accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer.ss), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        // Out of descriptors: leave new clients in the backlog and retry shortly (or as soon
        // as a connection closes); never spin, never exit.
        pauseAccepting();
        logFdShortage(std::string("accept: ") + strerror(e) + "; new clients wait until descriptors free up");
        return;
      }
      log(0, std::string("accept: ") + strerror(e));
      return;
    }
    accepted_++;
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
  timers_.add(acceptPausedUntilMs_, kTimerResume);
}

void Engine::onTimer(uint64_t key) {
  uint64_t kind = key & 3;
  if (kind == kTimerResume) {  // retryWaiting() and armListener() run right after the timers
    fdFreed_ = true;
    if (!fdWaiters_.empty()) pauseAccepting();
    return;
  }
  uint32_t id = uint32_t(key >> 2) & 0x3fffffff, gen = uint32_t(key >> 32);
  if (id >= slots_.size()) return;
  tcp::Conn& c = *slots_[id];
  if (!c.used || c.gen != gen) return;
  if (kind == kTimerConnect) {
    if (nowMs_ - c.connectStartMs < snap_->timeoutMs) return;
    if (c.state & tcp::kConnecting) {
      connectFailed(c, ETIMEDOUT);
    } else if (c.waitingFd) {
      refused_++;
      closeConn(c, "no descriptor for the backend connection in time");
    }
  } else if (kind == kTimerIdle) {
    int64_t idle = snap_->idleTimeoutSec * 1000LL;
    if (idle <= 0 || !(c.state & tcp::kConnected)) return;
    if (nowMs_ - c.lastActiveMs >= idle) closeConn(c, "idle timeout");
    else timers_.add(c.lastActiveMs + idle, key);
  } else if (kind == tcp::kTimerHandshake) {
    onHandshakeTimer(c);
  }
}

balance::ServerRuntime* Engine::runtime(int server) {
  if (server == balance::kEmergency) return &emergencyRt_;
  if (server == balance::kAbuse) return &abuseRt_;
  if (server >= 0 && size_t(server) < rt_.size()) return &rt_[size_t(server)];
  return nullptr;
}

const ServerConf* Engine::conf(int server) const {
  if (server == balance::kEmergency) return snap_->hasEmergency ? &snap_->emergency : nullptr;
  if (server == balance::kAbuse) return snap_->hasAbuse ? &snap_->abuse : nullptr;
  if (server >= 0 && size_t(server) < snap_->servers.size()) return &snap_->servers[size_t(server)];
  return nullptr;
}

void Engine::log(int level, std::string text) {
  if (level > snap_->debug) return;
  events::Record r;
  r.kind = events::Record::kLog;
  r.level = level;
  r.text = std::move(text);
  events_.push(std::move(r));
}

static std::string serverName(int server) {
  if (server == balance::kEmergency) return "emergency server";
  if (server == balance::kAbuse) return "abuse server";
  return "server " + std::to_string(server);
}

void Engine::serverDown(int server, int err, const char* what) {
  balance::ServerRuntime* rt = runtime(server);
  const ServerConf* sc = conf(server);
  if (!rt || !sc) return;
  rt->failures++;
  rt->failedAtMs = nowMs_;
  if (rt->down) return;
  rt->down = true;
  events::Record r;
  r.kind = events::Record::kServer;
  r.server = server;
  r.up = false;
  r.text = std::string(what) + " to " + serverName(server) + " (" + sc->addr.host() + ":" +
           std::to_string(sc->addr.port()) + ") failed: " + strerror(err);
  events_.push(std::move(r));
}

// ---- JS thread ----

void Engine::configure(std::shared_ptr<const Snapshot> snap) {
  {
    std::lock_guard<std::mutex> g(mu_);
    nextSnap_ = std::move(snap);
  }
  wake();
}

void Engine::setListener(int fd) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
    nextListener_ = fd;
    hasNextListener_ = true;
  }
  wake();
}

void Engine::blacklist(int server, int seconds) {
  std::lock_guard<std::mutex> g(mu_);
  // -O "server N blacklist T" runs before the first snapshot: the runtime slot may not exist yet.
  if (server >= 0 && rt_.size() <= size_t(server)) rt_.resize(size_t(server) + 1);
  balance::ServerRuntime* rt = runtime(server);
  if (!rt) return;
  rt->blacklistFor(util::monotonicMs(), seconds);
}

bool Engine::closeConnection(uint32_t id) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (id >= slots_.size() || !slots_[id]->used) return false;
    killList_.push_back(id);
  }
  wake();
  return true;
}

Stats Engine::stats() {
  std::lock_guard<std::mutex> g(mu_);
  Stats s;
  s.accepted = accepted_;
  s.refused = refused_;
  s.active = active_;
  s.pending = pending_;
  s.current = current_;
  s.servers = rt_;
  s.servers.push_back(emergencyRt_);
  s.servers.push_back(abuseRt_);
  int64_t mono = util::monotonicMs();
  double wall = util::wallMs();
  for (const auto& r : s.servers)
    s.blacklistedUntilWallMs.push_back(r.blacklisted(mono, snap_->blacklistSec) ? wall + double(r.blacklistEnd(snap_->blacklistSec) - mono) : 0);
  return s;
}

std::vector<ConnInfo> Engine::connections() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<ConnInfo> out;
  for (const auto& c : slots_) {
    if (!c->used) continue;
    out.push_back(ConnInfo{c->id, c->state, c->cfd, c->ufd, c->server, c->initial, c->client.host(),
                           c->down.pending(), c->up.pending(), clients_.find(net::keyOf(c->client))});
  }
  return out;
}

std::vector<ClientInfo> Engine::clients(int sinceSec) {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<ClientInfo> out;
  int64_t mono = util::monotonicMs();
  double wall = util::wallMs();
  for (const auto& e : clients_.entries()) {
    if (mono - e.lastSeenMs > int64_t(sinceSec) * 1000) continue;
    out.push_back(ClientInfo{e.addr.host(), e.server, e.connects, e.sx, e.rx, wall - double(mono - e.lastSeenMs)});
  }
  return out;
}

}  // namespace pen
