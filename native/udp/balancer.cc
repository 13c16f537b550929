// The worker loop, flow expiry and the JS-facing side of the UDP Balancer (see balancer.h).
#include "udp/balancer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/udp.h"
#include "util/clock.h"

namespace pen::udp {

namespace {
// Poller tokens: generation << 32 | flow id << 2 | kind (as the TCP Engine's).
enum : uint64_t { kUpstream = 0, kListener = 2, kWake = 3 };
constexpr int kMaxEvents = 256;
constexpr int64_t kDropReportMs = 1000;
constexpr int kMaxServers = 65536;  // lib/control/commands/servers.ts MAX_SERVERS
}  // namespace

Balancer::Balancer(std::unique_ptr<loop::Poller> poller, events::Queue& events)
    : poller_(std::move(poller)), events_(events), snap_(std::make_shared<Snapshot>()) {
  algo_ = balance::makeAlgorithm(snap_->algorithm);
  algoName_ = snap_->algorithm;
}

Balancer::~Balancer() { stop(); }

bool Balancer::start(std::string& err) {
  if (!wakeup_.open(err)) return false;
  if (int e = poller_->add(wakeup_.readFd(), loop::kRead, kWake)) {
    err = std::string("poller: ") + strerror(e);
    return false;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Balancer::stop() {
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

void Balancer::wake() { wakeup_.notify(); }

void Balancer::run() {
  std::vector<loop::Event> evs(kMaxEvents);
  int timeout = -1;
  for (;;) {
    int n = poller_->wait(evs.data(), kMaxEvents, timeout);
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) break;
    nowMs_ = util::monotonicMs();
    applyPending();
    for (int i = 0; i < n; i++) {
      uint64_t t = evs[i].token;
      uint64_t kind = t & 3;
      if (kind == kWake) {
        wakeup_.drain();
      } else if (kind == kListener) {
        if (listenFd_ >= 0) readListener();
      } else {
        uint32_t id = uint32_t(t >> 2) & 0x3fffffff, gen = uint32_t(t >> 32);
        Flow* f = flows_.at(id);
        if (!f || f->gen != gen || f->fd < 0) continue;  // closed earlier in this turn
        readUpstream(*f);
      }
    }
    flushReplies();
    expire();
    reportDrops();
    int flushIn = events_.flush(nowMs_);
    timeout = events::sooner(nextTimeoutMs(), flushIn);
  }
  // Shutdown: close every flow and the listener.
  for (const auto& f : flows_.slots())
    if (f->used) closeFlow(*f, "shutting down");
  if (listenFd_ >= 0) {
    poller_->remove(listenFd_);
    close(listenFd_);
    listenFd_ = -1;
  }
  if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
  hasNextListener_ = false;
}

void Balancer::applyPending() {
  if (nextSnap_) {
    snap_ = std::move(nextSnap_);
    nextSnap_.reset();
    // Runtime state survives a swap; a blacklist set before the first snapshot too.
    if (rt_.size() < snap_->servers.size() || !snap_->servers.empty()) rt_.resize(snap_->servers.size());
    if (snap_->algorithm != algoName_) {
      if (auto a = balance::makeAlgorithm(snap_->algorithm)) {
        algo_ = std::move(a);
        algoName_ = snap_->algorithm;
      }
    }
    clients_.setCapacity(size_t(snap_->clientsMax));
    while (flows_.size() > size_t(snap_->connMax)) evictOldest(nullptr, "evicted (conn_max lowered)");
  }
  if (hasNextListener_) {
    adoptListener(nextListener_);
    nextListener_ = -1;
    hasNextListener_ = false;
  }
  for (uint32_t id : killList_)
    if (Flow* f = flows_.at(id)) closeFlow(*f, "closed by the operator");
  killList_.clear();
}

/* Replaces the listener. Replies still pending for the old one are sent first. */
void Balancer::adoptListener(int fd) {
  if (listenFd_ >= 0) {
    flushReplies();
    poller_->remove(listenFd_);
    close(listenFd_);
    listenFd_ = -1;
  }
  net::Addr bound;
  bound.len = sizeof bound.ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound.ss), &bound.len) < 0) bound = net::Addr{};
  if (int e = poller_->add(fd, loop::kRead, kListener)) {
    log(0, std::string("listener: ") + strerror(e));
    close(fd);
    return;
  }
  listenFd_ = fd;
  listenFamily_ = bound.family();
  listenWildcard_ = net::isWildcard(bound);
}

int64_t Balancer::idleMs() const {
  return int64_t(snap_->idleTimeoutSec > 0 ? snap_->idleTimeoutSec : kDefaultIdleSec) * 1000;
}

/* Closes flows idle for idleMs(), oldest first (the LRU tail is the least recently active). */
void Balancer::expire() {
  int64_t idle = idleMs();
  while (Flow* f = flows_.oldest()) {
    if (nowMs_ - f->lastActiveMs < idle) break;
    closeFlow(*f, "idle timeout");
  }
}

int Balancer::nextTimeoutMs() const {
  const Flow* f = flows_.oldest();
  int64_t next = -1;
  if (f) next = f->lastActiveMs + idleMs() - util::monotonicMs();
  if (dropped_ != droppedReported_) next = next < 0 || next > kDropReportMs ? kDropReportMs : next;
  if (next < 0) return f ? 0 : -1;
  return int(next > 3600000 ? 3600000 : next);
}

/* Datagrams dropped (no server, denied, full buffers): one log line per second at most. */
void Balancer::reportDrops() {
  if (dropped_ == droppedReported_ || nowMs_ - dropsReportedMs_ < kDropReportMs) return;
  log(1, std::to_string(dropped_ - droppedReported_) + " datagram(s) dropped (no server available, denied, or buffers full)");
  droppedReported_ = dropped_;
  dropsReportedMs_ = nowMs_;
}

balance::ServerRuntime* Balancer::runtime(int server) {
  if (server == balance::kEmergency) return &emergencyRt_;
  if (server == balance::kAbuse) return &abuseRt_;
  if (server >= 0 && size_t(server) < rt_.size()) return &rt_[size_t(server)];
  return nullptr;
}

const ServerConf* Balancer::conf(int server) const {
  if (server == balance::kEmergency) return snap_->hasEmergency ? &snap_->emergency : nullptr;
  if (server == balance::kAbuse) return snap_->hasAbuse ? &snap_->abuse : nullptr;
  if (server >= 0 && size_t(server) < snap_->servers.size()) return &snap_->servers[size_t(server)];
  return nullptr;
}

void Balancer::log(int level, std::string text) {
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

/* A server failed (what: the attempted action, err: errno): blacklist it; report the change
   from up to down once. */
void Balancer::serverDown(int server, int err, const char* what) {
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

/* A server that was reported down answered a datagram. */
void Balancer::serverUp(int server) {
  balance::ServerRuntime* rt = runtime(server);
  if (!rt || !rt->down) return;
  rt->down = false;
  events::Record r;
  r.kind = events::Record::kServer;
  r.server = server;
  r.up = true;
  r.text = "a reply was received";
  events_.push(std::move(r));
}

// ---- JS thread ----

void Balancer::configure(std::shared_ptr<const Snapshot> snap) {
  {
    std::lock_guard<std::mutex> g(mu_);
    nextSnap_ = std::move(snap);
  }
  wake();
}

void Balancer::setListener(int fd) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (hasNextListener_ && nextListener_ >= 0) close(nextListener_);
    nextListener_ = fd;
    hasNextListener_ = true;
  }
  wake();
}

void Balancer::blacklist(int server, int seconds) {
  std::lock_guard<std::mutex> g(mu_);
  // `-O "server N blacklist T"` runs before the first snapshot: keep the state for server N.
  if (server >= 0 && server < kMaxServers && size_t(server) >= rt_.size()) rt_.resize(size_t(server) + 1);
  balance::ServerRuntime* rt = runtime(server);
  if (!rt) return;
  rt->blacklistFor(util::monotonicMs(), seconds);
}

bool Balancer::closeConnection(uint32_t id) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!flows_.at(id)) return false;
    killList_.push_back(id);
  }
  wake();
  return true;
}

Stats Balancer::stats() {
  std::lock_guard<std::mutex> g(mu_);
  Stats s;
  s.accepted = accepted_;
  s.refused = refused_;
  s.active = uint32_t(flows_.size());
  s.pending = 0;
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

/* Flows as connections: state 2 (connected); downfd is the listener, through which replies
   leave (Pen had a socket per client there); upfd is the flow's upstream socket. */
std::vector<ConnInfo> Balancer::connections() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<ConnInfo> out;
  for (const auto& f : flows_.slots()) {
    if (!f->used) continue;
    ConnInfo c{};
    c.id = f->id;
    c.state = 2;  // connected
    c.downfd = listenFd_;
    c.upfd = f->fd;
    c.server = f->server;
    c.initial = f->initial;
    c.client = f->client.host();
    c.clientIndex = clients_.find(net::keyOf(f->client));
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ClientInfo> Balancer::clients(int sinceSec) {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<ClientInfo> out;
  int64_t mono = util::monotonicMs();
  double wall = util::wallMs();
  // Bytes of open flows are added to their client here (closed flows added theirs at close).
  const auto& entries = clients_.entries();
  std::vector<std::pair<uint64_t, uint64_t>> live(entries.size());
  for (const auto& f : flows_.slots()) {
    if (!f->used) continue;
    int ci = clients_.find(net::keyOf(f->client));
    if (ci >= 0) live[size_t(ci)].first += f->down, live[size_t(ci)].second += f->up;
  }
  for (size_t i = 0; i < entries.size(); i++) {
    const auto& e = entries[i];
    if (mono - e.lastSeenMs > int64_t(sinceSec) * 1000) continue;
    out.push_back(ClientInfo{e.addr.host(), e.server, e.connects, e.sx + live[i].first, e.rx + live[i].second,
                             wall - double(mono - e.lastSeenMs)});
  }
  return out;
}

}  // namespace pen::udp
