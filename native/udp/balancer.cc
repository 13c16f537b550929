// The Worker hooks, flow expiry and the JS-facing queries of the UDP Balancer (see balancer.h).
#include "udp/balancer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <unordered_map>

#include "net/udp.h"
#include "util/clock.h"

namespace pen::udp {

namespace {
namespace token = loop::token;
constexpr int64_t kDropReportMs = 1000;
}  // namespace

Balancer::Balancer(balance::Pool& pool, int index, int count, std::unique_ptr<loop::Poller> poller, events::Queue& events)
    : Worker(pool, index, count, std::move(poller), events) {}

Balancer::~Balancer() { stop(); }

int Balancer::turn(const loop::Event* evs, int n) {
  for (int i = 0; i < n; i++) {
    uint64_t t = evs[i].token;
    uint64_t kind = token::kind(t);
    if (kind == token::kWake) {
      continue;  // drained by the Worker
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
  while (flows_.size() > flowCap()) evictOldest(nullptr, "evicted (conn_max lowered)");
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

void Balancer::adoptListener(int fd) {
  if (listenFd_ >= 0) {
    flushReplies();
    poller_->remove(listenFd_);
    close(listenFd_);
    listenFd_ = -1;
  }
  if (fd < 0) return;
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

/* How long a flow may wait for its first reply (udp_timeout; 0: the idle rule alone). */
int64_t Balancer::unansweredMs() const { return int64_t(snap_->udpTimeoutSec) * 1000; }

/* Closes flows idle for idleMs(), oldest first (the LRU tail is the least recently active),
   and flows that had no reply within udp_timeout of their start. */
void Balancer::expire() {
  int64_t idle = idleMs();
  while (Flow* f = flows_.oldest()) {
    if (nowMs_ - f->lastActiveMs < idle) break;
    closeFlow(*f, "idle timeout");
  }
  while (!unanswered_.empty() && unanswered_.front().atMs <= nowMs_) {
    Deadline d = unanswered_.front();
    unanswered_.pop_front();
    Flow* f = flows_.at(d.id);
    if (f && f->gen == d.gen && f->replies == 0) closeFlow(*f, "no reply within udp_timeout");
  }
}

int Balancer::nextTimeoutMs() const {
  constexpr int64_t kNever = INT64_MAX;
  int64_t now = util::monotonicMs(), next = kNever;
  if (const Flow* f = flows_.oldest()) next = f->lastActiveMs + idleMs() - now;
  if (!unanswered_.empty()) next = std::min(next, unanswered_.front().atMs - now);
  if (dropped_ != droppedReported_) next = std::min<int64_t>(next, kDropReportMs);
  if (next == kNever) return -1;
  return int(std::clamp<int64_t>(next, 0, 3600000));
}

/* Datagrams dropped (no server, denied, full buffers): one log line per second at most. */
void Balancer::reportDrops() {
  if (dropped_ == droppedReported_ || nowMs_ - dropsReportedMs_ < kDropReportMs) return;
  log(1, std::to_string(dropped_ - droppedReported_) + " datagram(s) dropped (no server available, denied, or buffers full)");
  droppedReported_ = dropped_;
  dropsReportedMs_ = nowMs_;
}

// ---- queries (worker thread, through Worker::call) ----

/* Flows as connections: state 2 (connected); downfd is the listener, through which replies
   leave (Pen had a socket per client there); upfd is the flow's upstream socket. */
void Balancer::listConnections(std::vector<ConnInfo>& out) {
  for (const auto& f : flows_.slots()) {
    if (!f->used) continue;
    ConnInfo c{};
    c.id = f->number;
    c.state = 2;  // connected
    c.downfd = listenFd_;
    c.upfd = f->fd;
    c.server = f->sel.server;
    c.initial = f->sel.initial;
    c.client = f->client.host();
    c.clientIndex = pool_.clientIndex(f->sel.key);
    out.push_back(std::move(c));
  }
}

/* Bytes of open flows are added to their client here (closed flows added theirs at close). */
void Balancer::addLiveClientBytes(std::vector<ClientInfo>& clients) {
  std::unordered_map<std::string, size_t> at;
  for (size_t i = 0; i < clients.size(); i++) at.emplace(clients[i].address, i);
  for (const auto& f : flows_.slots()) {
    if (!f->used) continue;
    auto it = at.find(f->client.host());
    if (it == at.end()) continue;
    clients[it->second].sx += f->down;
    clients[it->second].rx += f->up;
  }
}

}  // namespace pen::udp
