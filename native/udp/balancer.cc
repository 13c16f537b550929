// The Worker hooks, flow expiry and the JS-facing queries of the UDP Balancer (see balancer.h).
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
namespace token = loop::token;
constexpr int64_t kDropReportMs = 1000;
}  // namespace

Balancer::Balancer(std::unique_ptr<loop::Poller> poller, events::Queue& events) : Worker(std::move(poller), events) {}

Balancer::~Balancer() { stop(); }

int Balancer::turn(const loop::Event* evs, int n) {
  for (int i = 0; i < n; i++) {
    uint64_t t = evs[i].token;
    uint64_t kind = token::kind(t);
    if (kind == token::kWake) {
      drainWake();
    } else if (kind == token::kListener) {
      if (listenFd_ >= 0) readListener();
    } else {
      Flow* f = flows_.at(token::slot(t));
      if (!f || f->gen != token::gen(t) || f->fd < 0) continue;  // closed earlier in this turn
      readUpstream(*f);
    }
  }
  flushReplies();
  expire();
  reportDrops();
  return nextTimeoutMs();
}

void Balancer::adoptSnapshot(const Snapshot&) {
  // Runtime state survives a swap; a blacklist set before the first snapshot too.
  if (rt_.size() < snap_->servers.size() || !snap_->servers.empty()) rt_.resize(snap_->servers.size());
  while (flows_.size() > size_t(snap_->connMax)) evictOldest(nullptr, "evicted (conn_max lowered)");
}

bool Balancer::inUse(uint32_t id) const { return flows_.at(id) != nullptr; }

void Balancer::closeSlot(uint32_t id, const char* why) { closeFlow(*flows_.at(id), why); }

void Balancer::closeAll() {
  for (const auto& f : flows_.slots())
    if (f->used) closeFlow(*f, "shutting down");
  if (listenFd_ >= 0) {
    poller_->remove(listenFd_);
    close(listenFd_);
    listenFd_ = -1;
  }
}

void Balancer::countOpen(uint32_t& active, uint32_t& pending) const {
  active = uint32_t(flows_.size());
  pending = 0;
}

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
  if (int e = poller_->add(fd, loop::kRead, token::kListener)) {
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

// ---- JS thread ----

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
