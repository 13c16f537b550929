#include "balance/pool.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/errors.h"
#include "util/clock.h"

namespace pen::balance {

namespace {
enum : uint8_t { kFirst = 0, kFailover = 1, kLastResort = 2, kDone = 3 };
bool regular(int s) { return s >= 0; }
constexpr int64_t kLocalErrorLogMs = 10000;
}  // namespace

Pool::Pool(events::Queue& events) : events_(events) {
  auto v = std::make_shared<View>();
  v->snap = std::make_shared<Snapshot>();
  v->algo = makeAlgorithm(v->snap->algorithm);
  view_ = std::move(v);
}

// ---- JS thread ----

void Pool::configure(std::shared_ptr<const Snapshot> snap, std::shared_ptr<const geo::Db> geo,
                     std::shared_ptr<const tls::Server> tls) {
  states_.ensure(int(snap->servers.size()));
  std::shared_ptr<const View> prev = view();
  auto v = std::make_shared<View>();
  if (snap->algorithm == prev->snap->algorithm) {
    v->algo = prev->algo->rebuiltFor(*snap);  // null: the same object goes on (its cursor too)
    if (!v->algo) v->algo = prev->algo;
  } else {
    v->algo = makeAlgorithm(snap->algorithm);
    if (!v->algo) v->algo = prev->algo;  // decode.cc refuses unknown names; keep what runs
  }
  {
    std::lock_guard<std::mutex> g(clientsMu_);
    clients_.setCapacity(size_t(snap->clientsMax));
  }
  v->snap = std::move(snap);
  v->geo = std::move(geo);
  v->tls = std::move(tls);
  std::lock_guard<std::mutex> g(viewMu_);
  view_ = std::move(v);
  version_.fetch_add(1, std::memory_order_release);
}

void Pool::blacklist(int server, int seconds) {
  // `-O "server N blacklist T"` runs before the first snapshot: keep the state for server N.
  if (server >= 0 && server < kMaxServers && server >= states_.size()) states_.ensure(server + 1);
  if (ServerState* st = states_.at(server)) st->blacklistFor(util::monotonicMs(), seconds);
}

void Pool::fillStats(Stats& s) {
  std::shared_ptr<const View> v = view();
  s.accepted = accepted.load(std::memory_order_relaxed);
  s.refused = refused.load(std::memory_order_relaxed);
  s.active = active();
  s.pending = pending();
  s.current = current.load(std::memory_order_relaxed);
  s.transparentFailures = transparentFailures.count();
  s.dummyAnswers = dummyAnswers.load(std::memory_order_relaxed);
  s.idlers = idlers.load(std::memory_order_relaxed);
  size_t n = v->snap->servers.size();
  s.servers.clear();
  for (size_t i = 0; i < n; i++) s.servers.push_back(states_.at(int(i))->copy());
  s.servers.push_back(states_.at(kEmergency)->copy());
  s.servers.push_back(states_.at(kAbuse)->copy());
  int64_t mono = util::monotonicMs();
  double wall = util::wallMs();
  int sec = v->snap->blacklistSec;
  s.blacklistedUntilWallMs.clear();
  for (size_t i = 0; i < s.servers.size(); i++) {
    int idx = i < n ? int(i) : i == n ? kEmergency : kAbuse;
    const ServerState* st = states_.at(idx);
    s.blacklistedUntilWallMs.push_back(st->blacklisted(mono, sec) ? wall + double(st->blacklistEnd(sec) - mono) : 0);
  }
}

std::vector<ClientInfo> Pool::clients(int sinceSec) {
  std::vector<ClientInfo> out;
  int64_t mono = util::monotonicMs();
  double wall = util::wallMs();
  std::lock_guard<std::mutex> g(clientsMu_);
  for (const auto& e : clients_.entries()) {
    if (mono - e.lastSeenMs > int64_t(sinceSec) * 1000) continue;
    out.push_back(ClientInfo{e.addr.host(), e.server, e.connects, e.sx, e.rx, wall - double(mono - e.lastSeenMs)});
  }
  return out;
}

// ---- any thread ----

std::shared_ptr<const View> Pool::view() const {
  std::lock_guard<std::mutex> g(viewMu_);
  return view_;
}

int Pool::clientIndex(const net::AddrKey& key) {
  std::lock_guard<std::mutex> g(clientsMu_);
  return clients_.find(key);
}

const ServerConf* Pool::conf(const Snapshot& snap, int server) {
  if (server == kEmergency) return snap.hasEmergency ? &snap.emergency : nullptr;
  if (server == kAbuse) return snap.hasAbuse ? &snap.abuse : nullptr;
  if (server >= 0 && size_t(server) < snap.servers.size()) return &snap.servers[size_t(server)];
  return nullptr;
}

std::string Pool::describe(const Snapshot& snap, int server) {
  std::string name = server == kEmergency ? "emergency server"
                     : server == kAbuse   ? "abuse server"
                                          : "server " + std::to_string(server);
  const ServerConf* sc = conf(snap, server);
  if (!sc) return name;
  if (sc->addr.family() == AF_UNIX) return name + " (" + sc->addr.host() + ")";
  return name + " (" + sc->addr.host() + ":" + std::to_string(sc->addr.port()) + ")";
}

// ---- connection slots ----

bool Pool::reserveConn(int connMax) {
  uint32_t n = active_.load(std::memory_order_relaxed);
  do {
    if (n >= uint32_t(connMax)) {
      full_.store(true, std::memory_order_relaxed);
      return false;
    }
  } while (!active_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

void Pool::releaseConn() {
  active_.fetch_sub(1, std::memory_order_relaxed);
  if (full_.load(std::memory_order_relaxed) && full_.exchange(false)) wakeAll();
}

bool Pool::mayAccept(int connMax, int pendingMax) {
  auto room = [&] {
    return active() < uint32_t(connMax) && pending() < uint32_t(pendingMax) &&
           fds.load(std::memory_order_relaxed) + 2 <= fdBudget.load(std::memory_order_relaxed);
  };
  if (room()) return true;
  full_.store(true, std::memory_order_relaxed);
  // A slot may have come free between the check and the flag: look once more.
  return room();
}

void Pool::releasePending() {
  pending_.fetch_sub(1, std::memory_order_relaxed);
  if (full_.load(std::memory_order_relaxed) && full_.exchange(false)) wakeAll();
}

void Pool::wakeAll() {
  for (auto& w : wakers_) w();
}

// ---- connection numbers ----

namespace {
constexpr uint64_t kNoOwner = ~uint64_t(0);
}

uint32_t Pool::takeNumber(int worker, uint32_t slot) {
  std::lock_guard<std::mutex> g(numbersMu_);
  uint32_t n;
  if (!freeNumbers_.empty()) {
    std::pop_heap(freeNumbers_.begin(), freeNumbers_.end(), std::greater<uint32_t>());
    n = freeNumbers_.back();
    freeNumbers_.pop_back();
  } else {
    n = uint32_t(owners_.size());
    owners_.push_back(kNoOwner);
  }
  owners_[n] = uint64_t(uint32_t(worker)) << 32 | slot;
  return n;
}

void Pool::giveBackNumber(uint32_t number) {
  std::lock_guard<std::mutex> g(numbersMu_);
  if (number >= owners_.size() || owners_[number] == kNoOwner) return;
  owners_[number] = kNoOwner;
  freeNumbers_.push_back(number);
  std::push_heap(freeNumbers_.begin(), freeNumbers_.end(), std::greater<uint32_t>());
}

bool Pool::ownerOf(uint32_t number, int& worker, uint32_t& slot) {
  std::lock_guard<std::mutex> g(numbersMu_);
  if (number >= owners_.size() || owners_[number] == kNoOwner) return false;
  worker = int(owners_[number] >> 32);
  slot = uint32_t(owners_[number]);
  return true;
}

// ---- selection ----

bool Pool::begin(Selection& sel, const View& v, const net::Addr& client, int64_t nowMs) {
  const Snapshot& snap = *v.snap;
  sel.key = net::keyOf(client);
  sel.port = client.port();
  {
    std::lock_guard<std::mutex> g(clientsMu_);
    int ci = clients_.touch(client, nowMs, snap.trackingSec);
    sel.remembered = clients_.at(ci).server;
  }
  sel.phase = kFirst;
  sel.last = kNone;
  sel.tried.clear();
  if (!acl::permits(snap.acls[size_t(snap.clientAcl)], sel.key, v.geo.get(), sel.country)) {
    // Denied: the abuse server if there is one, else refused -- never the emergency server
    // (Pen sends denied clients there when -e is set and -B is not, quirk 20).
    sel.initial = kAbuse;
    return snap.hasAbuse;
  }
  if (snap.track && regular(sel.remembered) && size_t(sel.remembered) < snap.servers.size()) {
    sel.initial = sel.remembered;
  } else {
    PickContext ctx{snap, states_, sel.key, sel.port, nowMs};
    sel.initial = v.algo->pick(ctx);
  }
  return true;
}

void Pool::beginIdle(Selection& sel, const View& v, int64_t nowMs) {
  sel = Selection{};
  sel.noClient = true;
  PickContext ctx{*v.snap, states_, sel.key, sel.port, nowMs};
  sel.initial = v.algo->pick(ctx);
  sel.phase = kFirst;
}

int Pool::next(Selection& sel, const View& v, int64_t nowMs) {
  const Snapshot& snap = *v.snap;
  for (;;) {
    int s;
    if (sel.phase == kFirst) {
      s = sel.initial;
      sel.phase = s == kAbuse ? kDone : kFailover;
      if (s == kNone) continue;
    } else if (sel.phase == kFailover) {
      if (snap.stubborn || !regular(sel.last)) {
        sel.phase = kLastResort;
        continue;
      }
      if (sel.tried.size() < snap.servers.size()) sel.tried.resize(snap.servers.size(), 0);
      PickContext ctx{snap, states_, sel.key, sel.port, nowMs, &sel.tried, sel.last};
      s = v.algo->pick(ctx);
      if (s == kNone) {
        sel.phase = kLastResort;
        continue;
      }
    } else if (sel.phase == kLastResort) {
      sel.phase = kDone;
      if (snap.stubborn || !snap.hasEmergency || sel.last == kEmergency) return kNone;
      s = kEmergency;
    } else {
      return kNone;
    }
    if (regular(s)) {
      if (sel.tried.size() < snap.servers.size()) sel.tried.resize(snap.servers.size(), 0);
      if (size_t(s) < sel.tried.size()) sel.tried[size_t(s)] = 1;
    }
    sel.last = s;
    if (!acquire(sel, v, s, nowMs)) continue;
    sel.server = s;
    if (regular(s) && !sel.noClient) {
      current.store(s, std::memory_order_relaxed);
      remember(sel.key, s);
      sel.remembered = s;
    }
    return s;
  }
}

bool Pool::acquire(Selection& sel, const View& v, int s, int64_t nowMs) {
  const Snapshot& snap = *v.snap;
  const ServerConf* sc = conf(snap, s);
  ServerState* st = states_.at(s);
  if (!sc || !st || !sc->configured() || sc->addr.disabled()) return false;
  if (sel.ipOnly && sc->addr.family() != AF_INET && sc->addr.family() != AF_INET6) return false;
  if (st->blacklisted(nowMs, snap.blacklistSec)) return false;
  if (s != kAbuse && !sel.noClient && !acl::permits(snap.acls[size_t(sc->acl)], sel.key, v.geo.get(), sel.country)) return false;
  // Soft limit for everyone, hard limit for the clients that stick to s, process-wide: the
  // count is only raised by a compare-and-swap that saw it below the limit.
  int n = st->conn.load(std::memory_order_relaxed);
  do {
    if (sc->maxc > 0 && n >= sc->maxc && !(sel.remembered == s && n < sc->hard)) return false;
  } while (!st->conn.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

void Pool::remember(const net::AddrKey& key, int server) {
  std::lock_guard<std::mutex> g(clientsMu_);
  int ci = clients_.find(key);
  if (ci >= 0) clients_.at(ci).server = server;
}

void Pool::failed(Selection& sel, const View& v, int err, const char* what, int64_t nowMs) {
  int s = sel.server;
  release(sel);
  if (net::localShortage(err)) {
    // Pen's own shortage (no local port, no buffer): the server is not to blame.
    localErrors.fetch_add(1, std::memory_order_relaxed);
    int64_t last = localErrorLogMs_.load(std::memory_order_relaxed);
    if (nowMs - last >= kLocalErrorLogMs && localErrorLogMs_.compare_exchange_strong(last, nowMs)) {
      events::Record r;
      r.kind = events::Record::kLog;
      r.level = 0;
      r.text = std::string(what) + " to " + describe(*v.snap, s) + ": " + strerror(err) +
               " (a shortage on this host, not the server's fault: it stays in use)";
      events_.push(std::move(r));
    }
  } else if (ServerState* st = states_.at(s)) {
    st->failures.fetch_add(1, std::memory_order_relaxed);
    st->failedAtMs.store(nowMs, std::memory_order_relaxed);
    if (!st->down.exchange(true)) reportDown(*v.snap, s, err, what);
  }
  if (v.snap->stubborn || !regular(s)) sel.phase = kDone;
}

void Pool::reportDown(const Snapshot& snap, int server, int err, const char* what) {
  events::Record r;
  r.kind = events::Record::kServer;
  r.server = server;
  r.up = false;
  r.text = std::string(what) + " to " + describe(snap, server) + " failed: " + strerror(err);
  events_.push(std::move(r));
}

void Pool::succeeded(int server, const char* why) {
  ServerState* st = states_.at(server);
  if (!st || !st->down.load(std::memory_order_relaxed) || !st->down.exchange(false)) return;
  events::Record r;
  r.kind = events::Record::kServer;
  r.server = server;
  r.up = true;
  r.text = why;
  events_.push(std::move(r));
}

void Pool::release(Selection& sel) {
  if (sel.server == kNone) return;
  if (ServerState* st = states_.at(sel.server)) st->conn.fetch_sub(1, std::memory_order_relaxed);
  sel.server = kNone;
}

void Pool::restart(Selection& sel, int first) {
  release(sel);
  sel.tried.clear();
  sel.initial = first;
  sel.last = kNone;
  sel.phase = kFirst;
}

void Pool::moveFrom(Selection& sel, const View& v, int old, int64_t nowMs) {
  const Snapshot& snap = *v.snap;
  release(sel);
  if (old == kAbuse) return restart(sel, kAbuse);
  if (!regular(old) || size_t(old) >= snap.servers.size()) {
    PickContext ctx{snap, states_, sel.key, sel.port, nowMs};
    return restart(sel, v.algo->pick(ctx));
  }
  sel.tried.assign(snap.servers.size(), 0);
  sel.tried[size_t(old)] = 1;
  sel.last = old;
  sel.phase = kFailover;
}

void Pool::clientBytes(const net::AddrKey& key, uint64_t toClient, uint64_t fromClient) {
  std::lock_guard<std::mutex> g(clientsMu_);
  int ci = clients_.find(key);
  if (ci < 0) return;
  clients_.at(ci).sx += toClient;
  clients_.at(ci).rx += fromClient;
}

}  // namespace pen::balance
