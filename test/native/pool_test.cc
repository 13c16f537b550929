// The balancing pool (native/balance/pool.h) as tables: each algorithm's choice sequence,
// failover order, the emergency and abuse servers, stubborn, soft/hard limits (also under
// concurrent threads), the client table's tracking, expiry and eviction, local errors.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "balance/pool.h"
#include "test_addr.h"

namespace pen::balance {
namespace {

net::Addr ip4(const char* text, int port = 40000) { return testing::ip4(text, port); }

ServerConf server(const char* ip, int port, int maxc = 0, int hard = 0, int weight = 0, int prio = 0) {
  ServerConf s;
  s.addr = ip4(ip, port);
  s.maxc = maxc;
  s.hard = hard;
  s.weight = weight;
  s.prio = prio;
  return s;
}

/* A snapshot of n servers 10.0.0.1..n (port 80) with the given algorithm. */
std::shared_ptr<Snapshot> snapshotOf(int n, const std::string& algorithm = "roundrobin", bool track = false) {
  auto s = std::make_shared<Snapshot>();
  for (int i = 0; i < n; i++) s->servers.push_back(server(("10.0.0." + std::to_string(i + 1)).c_str(), 80));
  s->algorithm = algorithm;
  s->track = track;
  return s;
}

/* s with an emergency server (10.0.0.99:80). */
std::shared_ptr<Snapshot> withEmergency(std::shared_ptr<Snapshot> s) {
  s->hasEmergency = true;
  s->emergency = server("10.0.0.99", 80);
  return s;
}

struct Fixture {
  events::Queue events;
  Pool pool{events};
  int64_t now = 1000000;

  void configure(std::shared_ptr<Snapshot> s) { pool.configure(std::move(s), nullptr, nullptr); }
  /* Admits client into sel; the view it was admitted with. */
  std::shared_ptr<const View> admit(Selection& sel, const net::Addr& client) {
    auto v = pool.view();
    EXPECT_TRUE(pool.begin(sel, *v, client, now));
    return v;
  }
  /* The server a new connection from client gets (held until released), kNone if none. */
  int connect(Selection& sel, const net::Addr& client) {
    auto v = pool.view();
    if (!pool.begin(sel, *v, client, now)) return kNone;
    return pool.next(sel, *v, now);
  }
  /* Connects and releases at once: the choice alone. */
  int choose(const net::Addr& client) {
    Selection sel;
    int s = connect(sel, client);
    pool.release(sel);
    return s;
  }
};

TEST(Pool, RoundRobinTakesTurnsAndSkipsBlacklisted) {
  Fixture f;
  f.configure(snapshotOf(3));
  std::vector<int> got;
  for (int i = 0; i < 6; i++) got.push_back(f.choose(ip4("192.0.2.1")));
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 0, 1, 2}));
  f.pool.blacklist(1, 60);
  got.clear();
  for (int i = 0; i < 4; i++) got.push_back(f.choose(ip4("192.0.2.1")));
  EXPECT_EQ(got, (std::vector<int>{0, 2, 0, 2}));
  f.pool.blacklist(1, 0);  // cleared: the turn goes on from the cursor (2)
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 0);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 1);
}

TEST(Pool, HashIsPenCompatibleForIPv4) {
  // Pen: the address bytes as a little-endian number, modulo the number of servers.
  struct Row {
    const char* client;
    int expected;
  } rows[] = {{"1.0.0.0", 1}, {"2.0.0.0", 2}, {"3.0.0.0", 0}, {"0.0.0.4", 1}, {"10.0.0.5", 0}, {"10.0.0.6", 1}};
  Fixture f;
  f.configure(snapshotOf(3, "hash"));
  for (const Row& r : rows) EXPECT_EQ(f.choose(ip4(r.client)), r.expected) << r.client;
}

TEST(Pool, WeightPicksLeastConnectionsPerWeight) {
  Fixture f;
  auto s = snapshotOf(0, "weight");
  s->servers = {server("10.0.0.1", 80, 0, 0, 1), server("10.0.0.2", 80, 0, 0, 3)};
  f.configure(s);
  // Held connections: weight 3 takes three for every one of weight 1.
  std::vector<Selection> held(8);
  std::vector<int> got;
  for (auto& sel : held) got.push_back(f.connect(sel, ip4("192.0.2.9")));
  EXPECT_EQ(got, (std::vector<int>{0, 1, 1, 1, 0, 1, 1, 1}));
  for (auto& sel : held) f.pool.release(sel);
  EXPECT_EQ(f.pool.state(0)->conn.load(), 0);
  EXPECT_EQ(f.pool.state(1)->conn.load(), 0);
}

TEST(Pool, PrioPicksTheLowestAvailablePrio) {
  Fixture f;
  auto s = snapshotOf(0, "prio");
  s->servers = {server("10.0.0.1", 80, 0, 0, 0, 5), server("10.0.0.2", 80, 0, 0, 0, 1), server("10.0.0.3", 80, 0, 0, 0, 3)};
  f.configure(s);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 1);
  f.pool.blacklist(1, 60);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 2);
  f.pool.blacklist(2, 60);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 0);
}

TEST(Pool, FailoverFollowsTheAlgorithmThenTheEmergencyServer) {
  Fixture f;
  auto s = withEmergency(snapshotOf(3));
  f.configure(s);
  Selection sel;
  auto v = f.admit(sel, ip4("192.0.2.1"));
  std::vector<int> order;
  for (int s2 = f.pool.next(sel, *v, f.now); s2 != kNone; s2 = f.pool.next(sel, *v, f.now)) {
    order.push_back(s2);
    f.pool.failed(sel, *v, ECONNREFUSED, "connect", f.now);
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, kEmergency}));
  for (int i = 0; i < 3; i++) EXPECT_TRUE(f.pool.state(i)->blacklisted(f.now, s->blacklistSec)) << i;
  EXPECT_TRUE(f.pool.state(0)->down.load());
  EXPECT_EQ(f.pool.state(0)->failures.load(), 1u);
  // The emergency server failed too: nothing is left for a new client...
  EXPECT_EQ(f.choose(ip4("192.0.2.2")), kNone);
  // ... until it is cleared: then it takes the clients the blacklisted servers cannot.
  f.pool.blacklist(kEmergency, 0);
  EXPECT_EQ(f.choose(ip4("192.0.2.2")), kEmergency);
}

TEST(Pool, StubbornNeverFailsOver) {
  Fixture f;
  auto s = withEmergency(snapshotOf(3));
  s->stubborn = true;
  f.configure(s);
  Selection sel;
  auto v = f.admit(sel, ip4("192.0.2.1"));
  EXPECT_EQ(f.pool.next(sel, *v, f.now), 0);
  f.pool.failed(sel, *v, ECONNREFUSED, "connect", f.now);
  EXPECT_EQ(f.pool.next(sel, *v, f.now), kNone);
}

TEST(Pool, LocalShortageDoesNotBlameTheServer) {
  struct Row {
    int err;
    bool blamed;
  } rows[] = {{ECONNREFUSED, true}, {ETIMEDOUT, true}, {EHOSTUNREACH, true},
              {EADDRNOTAVAIL, false}, {EAGAIN, false}, {EMFILE, false}, {ENOBUFS, false}};
  for (const Row& r : rows) {
    Fixture f;
    f.configure(snapshotOf(2));
    Selection sel;
    auto v = f.admit(sel, ip4("192.0.2.1"));
    ASSERT_EQ(f.pool.next(sel, *v, f.now), 0);
    f.pool.failed(sel, *v, r.err, "connect", f.now);
    EXPECT_EQ(f.pool.state(0)->blacklisted(f.now, 30), r.blamed) << strerror(r.err);
    EXPECT_EQ(f.pool.localErrors.load(), r.blamed ? 0u : 1u) << strerror(r.err);
    EXPECT_EQ(f.pool.next(sel, *v, f.now), 1) << "fails over either way";
    EXPECT_EQ(f.pool.state(0)->conn.load(), 0);
  }
}

TEST(Pool, ClientAclSendsDeniedClientsToTheAbuseServerOnly) {
  Fixture f;
  auto s = snapshotOf(2);
  acl::Entry deny;
  deny.permit = false;
  deny.family = 4;
  for (int i = 0; i < 10; i++) deny.addr[size_t(i)] = 0, deny.mask[size_t(i)] = 0xff;
  deny.addr[10] = deny.addr[11] = 0xff;
  deny.mask[10] = deny.mask[11] = 0xff;
  deny.addr[12] = 192;
  deny.mask[12] = 0xff;  // 192.0.0.0/8
  s->acls[1] = {deny};
  s->clientAcl = 1;
  f.configure(withEmergency(s));
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), kNone) << "no abuse server: refused, never the emergency server";
  EXPECT_EQ(f.choose(ip4("198.51.100.1")), 0) << "the list's last entry denies: others pass";
  s = std::make_shared<Snapshot>(*s);
  s->hasAbuse = true;
  s->abuse = server("10.0.0.66", 80);
  f.configure(s);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), kAbuse);
  f.pool.blacklist(kAbuse, 60);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), kNone) << "an unusable abuse server refuses; no failover";
}

TEST(Pool, TrackedClientsReturnToTheirServer) {
  Fixture f;
  f.configure(snapshotOf(3, "roundrobin", /*track=*/true));
  int a = f.choose(ip4("192.0.2.1")), b = f.choose(ip4("192.0.2.2"));
  EXPECT_NE(a, b);
  for (int i = 0; i < 5; i++) {
    EXPECT_EQ(f.choose(ip4("192.0.2.1", 50000 + i)), a);
    EXPECT_EQ(f.choose(ip4("192.0.2.2", 50000 + i)), b);
  }
}

TEST(Pool, TrackingExpires) {
  Fixture f;
  auto s = snapshotOf(3, "roundrobin", true);
  s->trackingSec = 10;
  f.configure(s);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 0);
  f.now += 5000;
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 0) << "within the tracking time";
  f.now += 11000;
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 1) << "forgotten: the algorithm chooses again";
}

TEST(Pool, ClientTableEvictsTheLeastRecentlySeen) {
  Fixture f;
  auto s = snapshotOf(3, "roundrobin", true);
  s->clientsMax = 2;
  f.configure(s);
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 0);
  f.now++;
  EXPECT_EQ(f.choose(ip4("192.0.2.2")), 1);
  f.now++;
  EXPECT_EQ(f.choose(ip4("192.0.2.1")), 0);  // seen again: .2 is now the oldest
  f.now++;
  EXPECT_EQ(f.choose(ip4("192.0.2.3")), 2);  // evicts .2
  EXPECT_GE(f.pool.clientIndex(net::keyOf(ip4("192.0.2.1"))), 0);
  EXPECT_EQ(f.pool.clientIndex(net::keyOf(ip4("192.0.2.2"))), -1);
  f.now++;
  EXPECT_EQ(f.choose(ip4("192.0.2.2")), 0) << "a new client again";
}

TEST(Pool, SoftLimitSkipsAndHardLimitLetsStickyClientsIn) {
  Fixture f;
  auto s = snapshotOf(0, "roundrobin", true);
  s->servers = {server("10.0.0.1", 80, /*maxc=*/1, /*hard=*/2), server("10.0.0.2", 80)};
  f.configure(s);
  Selection a, b, c, d;
  EXPECT_EQ(f.connect(a, ip4("192.0.2.1")), 0);
  EXPECT_EQ(f.connect(b, ip4("192.0.2.1", 40001)), 0) << "sticky: up to the hard limit";
  EXPECT_EQ(f.connect(c, ip4("192.0.2.1", 40002)), 1) << "beyond hard: fails over";
  EXPECT_EQ(f.connect(d, ip4("192.0.2.2")), 1);
  f.pool.release(a);
  f.pool.release(b);
  Selection e;
  EXPECT_EQ(f.connect(e, ip4("192.0.2.3")), 0) << "below the soft limit again";
}

TEST(Pool, LimitsHoldAcrossConcurrentThreads) {
  // Four threads hammer a server with maxc 5 / hard 8 (every client sticks to it): the count
  // must never pass the hard limit, and everything given back brings it to zero.
  Fixture f;
  auto s = snapshotOf(0, "roundrobin", true);
  s->servers = {server("10.0.0.1", 80, 5, 8)};
  f.configure(s);
  std::atomic<int> peak{0}, over{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      auto v = f.pool.view();
      for (int i = 0; i < 20000; i++) {
        Selection sel;
        if (!f.pool.begin(sel, *v, ip4("192.0.2.1", 1000 + t), f.now)) continue;
        if (f.pool.next(sel, *v, f.now) == kNone) continue;
        int n = f.pool.state(0)->conn.load();
        if (n > 8) over++;
        int p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
        }
        f.pool.release(sel);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(over.load(), 0);
  EXPECT_LE(peak.load(), 8);
  EXPECT_EQ(f.pool.state(0)->conn.load(), 0);
}

TEST(Pool, RoundRobinStaysFairAcrossThreads) {
  Fixture f;
  f.configure(snapshotOf(4));
  std::vector<std::atomic<int>> hits(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; i++) hits[size_t(f.choose(ip4("192.0.2.1")))]++;
    });
  for (auto& t : threads) t.join();
  for (auto& h : hits) EXPECT_EQ(h.load(), 10000);
}

TEST(Pool, ConnectionSlotsAreProcessWide) {
  Fixture f;
  EXPECT_TRUE(f.pool.mayAccept(2, 10));
  EXPECT_TRUE(f.pool.reserveConn(2));
  EXPECT_TRUE(f.pool.reserveConn(2));
  EXPECT_FALSE(f.pool.reserveConn(2));
  EXPECT_FALSE(f.pool.mayAccept(2, 10));
  int woken = 0;
  f.pool.onSlotFreed([&] { woken++; });
  f.pool.releaseConn();
  EXPECT_EQ(woken, 1) << "a worker that stopped accepting is woken";
  EXPECT_TRUE(f.pool.mayAccept(2, 10));
  f.pool.addPending();
  EXPECT_FALSE(f.pool.mayAccept(10, 1));
  f.pool.releasePending();
  EXPECT_TRUE(f.pool.mayAccept(10, 1));
}

TEST(Pool, StateSurvivesASnapshotSwap) {
  Fixture f;
  f.configure(snapshotOf(2));
  f.pool.blacklist(5, 60);  // beyond the snapshot: kept for later
  Selection sel;
  EXPECT_EQ(f.connect(sel, ip4("192.0.2.1")), 0);
  f.configure(snapshotOf(6));
  EXPECT_EQ(f.pool.state(0)->conn.load(), 1);
  EXPECT_GT(f.pool.state(5)->blacklistUntilMs.load(), 0) << "the blacklist set before the server existed";
  Stats st;
  f.pool.fillStats(st);
  ASSERT_EQ(st.servers.size(), 8u);  // 6 regular + emergency + abuse
  EXPECT_EQ(st.servers[0].conn, 1);
  EXPECT_GT(st.blacklistedUntilWallMs[5], 0);
  f.pool.release(sel);
}

}  // namespace
}  // namespace pen::balance
