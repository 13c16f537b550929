#include "dsr/pool_chooser.h"

#include <netinet/in.h>

#include <cstring>

#include "util/clock.h"

namespace pen::dsr {

PoolChooser::PoolChooser(balance::Pool& pool)
    : pool_(pool),
      frames_(new std::atomic<uint64_t>[balance::kMaxServers]()),
      bytes_(new std::atomic<uint64_t>[balance::kMaxServers]()) {}

static bool sameServers(const std::vector<FlowTable::Server>& a, const std::vector<FlowTable::Server>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (a[i].server != b[i].server || a[i].ipv4 != b[i].ipv4 || a[i].weight != b[i].weight) return false;
  return true;
}

void PoolChooser::rebuild(bool force, int64_t nowMs) {
  auto view = pool_.view();
  if (!view || !view->snap) return;
  const Snapshot& snap = *view->snap;
  std::vector<FlowTable::Server> now;
  net::AddrKey none;
  balance::PickContext ctx{snap, pool_.states(), none, 0, nowMs};
  for (size_t i = 0; i < snap.servers.size(); i++) {
    const ServerConf& s = snap.servers[i];
    if (s.addr.family() != AF_INET || !ctx.available(int(i))) continue;
    uint32_t ip;
    std::memcpy(&ip, &reinterpret_cast<const sockaddr_in*>(&s.addr.ss)->sin_addr, 4);
    now.push_back({int(i), ip, s.weight});
  }
  hashPort_ = !snap.track;  // Pen's -r (roundrobin) mixes the port into the DSR hash
  if (!force && sameServers(now, built_)) return;
  table_.build(now);
  built_ = std::move(now);
}

void PoolChooser::refresh() {
  const int64_t now = util::monotonicMs();
  const uint64_t v = pool_.version();
  if (v != version_) {
    version_ = v;
    checkedMs_ = now;
    rebuild(true, now);
  } else if (now - checkedMs_ >= kRecheckMs) {
    checkedMs_ = now;
    rebuild(false, now);
  }
}

Choice PoolChooser::choose(const FlowKey& flow) {
  if (version_ == ~uint64_t(0)) refresh();  // before the first batch ended
  return table_.lookup(flow, hashPort_);
}

void PoolChooser::count(int server, uint64_t frames, uint64_t bytes) {
  if (server < 0 || server >= balance::kMaxServers) return;
  frames_[size_t(server)].fetch_add(frames, std::memory_order_relaxed);
  bytes_[size_t(server)].fetch_add(bytes, std::memory_order_relaxed);
  if (balance::ServerState* st = pool_.state(server)) st->addBytes(bytes, 0);
}

uint64_t PoolChooser::frames(int server) const {
  if (server < 0 || server >= balance::kMaxServers) return 0;
  return frames_[size_t(server)].load(std::memory_order_relaxed);
}

uint64_t PoolChooser::bytes(int server) const {
  if (server < 0 || server >= balance::kMaxServers) return 0;
  return bytes_[size_t(server)].load(std::memory_order_relaxed);
}

}  // namespace pen::dsr
