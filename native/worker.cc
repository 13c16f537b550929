// The worker thread, its loop and hand-overs, and the shared DataPlane methods (see worker.h).
#include "worker.h"

#include <unistd.h>

#include <cstring>

#include "util/clock.h"

namespace pen {

namespace {
constexpr int kMaxEvents = 256;
constexpr int kMaxServers = 65536;  // lib/control/commands/servers.ts MAX_SERVERS
}  // namespace

Worker::Worker(std::unique_ptr<loop::Poller> poller, events::Queue& events)
    : poller_(std::move(poller)), events_(events), snap_(std::make_shared<Snapshot>()) {
  algo_ = balance::makeAlgorithm(snap_->algorithm);
  algoName_ = snap_->algorithm;
}

bool Worker::start(std::string& err) {
  if (!wakeup_.open(err)) return false;
  if (int e = poller_->add(wakeup_.readFd(), loop::kRead, loop::token::kWake)) {
    err = std::string("poller: ") + strerror(e);
    return false;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Worker::stop() {
  if (!started_) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  wakeup_.notify();
  thread_.join();
  started_ = false;
  wakeup_.close();
}

void Worker::run() {
  std::vector<loop::Event> evs(kMaxEvents);
  int timeout = -1;
  for (;;) {
    int n = poller_->wait(evs.data(), kMaxEvents, timeout);
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) break;
    nowMs_ = util::monotonicMs();
    applyPending();
    int due = turn(evs.data(), n);
    int flushIn = events_.flush(nowMs_);
    timeout = events::sooner(due, flushIn);
  }
  // Shutdown (Pen's TERM behaviour); a listener handed over but not yet adopted goes too.
  closeAll();
  if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
  hasNextListener_ = false;
}

void Worker::applyPending() {
  if (nextSnap_) {
    std::shared_ptr<const Snapshot> prev = std::move(snap_);
    snap_ = std::move(nextSnap_);
    nextSnap_.reset();
    if (snap_->algorithm != algoName_) {
      if (auto a = balance::makeAlgorithm(snap_->algorithm)) {
        algo_ = std::move(a);
        algoName_ = snap_->algorithm;
      }
    }
    clients_.setCapacity(size_t(snap_->clientsMax));
    adoptSnapshot(*prev);
  }
  if (hasNextListener_) {
    adoptListener(nextListener_);
    nextListener_ = -1;
    hasNextListener_ = false;
  }
  for (uint32_t id : killList_)
    if (inUse(id)) closeSlot(id, "closed by the operator");
  killList_.clear();
}

balance::ServerRuntime* Worker::runtime(int server) {
  if (server == balance::kEmergency) return &emergencyRt_;
  if (server == balance::kAbuse) return &abuseRt_;
  if (server >= 0 && size_t(server) < rt_.size()) return &rt_[size_t(server)];
  return nullptr;
}

const ServerConf* Worker::conf(int server) const {
  if (server == balance::kEmergency) return snap_->hasEmergency ? &snap_->emergency : nullptr;
  if (server == balance::kAbuse) return snap_->hasAbuse ? &snap_->abuse : nullptr;
  if (server >= 0 && size_t(server) < snap_->servers.size()) return &snap_->servers[size_t(server)];
  return nullptr;
}

void Worker::log(int level, std::string text) {
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

void Worker::serverDown(int server, int err, const char* what) {
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

void Worker::serverUp(int server, const char* why) {
  balance::ServerRuntime* rt = runtime(server);
  if (!rt || !rt->down) return;
  rt->down = false;
  events::Record r;
  r.kind = events::Record::kServer;
  r.server = server;
  r.up = true;
  r.text = why;
  events_.push(std::move(r));
}

// ---- JS thread ----

void Worker::configure(std::shared_ptr<const Snapshot> snap) {
  {
    std::lock_guard<std::mutex> g(mu_);
    nextSnap_ = std::move(snap);
  }
  wakeup_.notify();
}

void Worker::setListener(int fd) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
    nextListener_ = fd;
    hasNextListener_ = true;
  }
  wakeup_.notify();
}

bool Worker::closeConnection(uint32_t id) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!inUse(id)) return false;
    killList_.push_back(id);
  }
  wakeup_.notify();
  return true;
}

void Worker::blacklist(int server, int seconds) {
  std::lock_guard<std::mutex> g(mu_);
  // `-O "server N blacklist T"` runs before the first snapshot: keep the state for server N.
  if (server >= 0 && server < kMaxServers && size_t(server) >= rt_.size()) rt_.resize(size_t(server) + 1);
  balance::ServerRuntime* rt = runtime(server);
  if (!rt) return;
  rt->blacklistFor(util::monotonicMs(), seconds);
}

Stats Worker::stats() {
  std::lock_guard<std::mutex> g(mu_);
  Stats s;
  s.accepted = accepted_;
  s.refused = refused_;
  countOpen(s.active, s.pending);
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

}  // namespace pen
