// The DSR chooser over the real balancing pool (native/dsr/pool_chooser.h): the table follows
// the pool's servers, weights and blacklists without a restart (Pen built it once, quirk 57).
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <chrono>
#include <map>
#include <thread>

#include "dsr/pool_chooser.h"
#include "test_addr.h"

namespace pen::dsr {
namespace {

net::Addr ip4(const char* text, int port = 80) { return testing::ip4(text, port); }

std::shared_ptr<Snapshot> snapshotOf(std::vector<std::pair<const char*, int>> servers) {
  auto s = std::make_shared<Snapshot>();
  for (auto [ip, weight] : servers) {
    ServerConf c;
    c.addr = ip4(ip);
    c.weight = weight;
    s->servers.push_back(c);
  }
  return s;
}

/* The servers chosen for clients 10.1.0.0 .. 10.1.0.255 (every table slot once), after the
   refresh() that ends a batch, kRecheckMs after the last one. */
std::map<int, int> spread(PoolChooser& c) {
  std::this_thread::sleep_for(std::chrono::milliseconds(PoolChooser::kRecheckMs + 2));
  c.refresh();
  std::map<int, int> n;
  for (int h = 0; h < 256; h++) {
    FlowKey k;
    k.src = {10, 1, 0, uint8_t(h)};
    n[c.choose(k).server]++;
  }
  return n;
}

struct Fixture {
  events::Queue events;
  balance::Pool pool{events};
  PoolChooser chooser{pool};
  void configure(std::shared_ptr<Snapshot> s) { pool.configure(std::move(s), nullptr, nullptr); }
};

TEST(DsrPoolChooser, FollowsServersWeightsAndBlacklists) {
  Fixture fx;
  EXPECT_EQ(fx.chooser.choose(FlowKey{}).server, -1) << "no snapshot yet: nobody";
  fx.configure(snapshotOf({{"10.0.0.1", 1}, {"10.0.0.2", 1}}));
  EXPECT_EQ(spread(fx.chooser), (std::map<int, int>{{0, 128}, {1, 128}}));
  FlowKey k;
  k.src = {10, 1, 0, 7};
  const Choice c = fx.chooser.choose(k);
  uint32_t want;
  inet_pton(AF_INET, c.server == 0 ? "10.0.0.1" : "10.0.0.2", &want);
  EXPECT_EQ(c.ipv4, want) << "the choice carries the server's address";

  fx.configure(snapshotOf({{"10.0.0.1", 1}, {"10.0.0.2", 3}}));
  EXPECT_EQ(spread(fx.chooser), (std::map<int, int>{{0, 64}, {1, 192}})) << "weights apply at once";

  fx.configure(snapshotOf({{"10.0.0.1", 1}, {"10.0.0.2", 1}, {"0.0.0.0", 1}, {"10.0.0.4", 2}}));
  EXPECT_EQ(spread(fx.chooser), (std::map<int, int>{{0, 64}, {1, 64}, {3, 128}})) << "a new server joins; 0.0.0.0 does not";

  fx.pool.blacklist(3, 60);
  EXPECT_EQ(spread(fx.chooser), (std::map<int, int>{{0, 128}, {1, 128}})) << "a blacklisted server leaves at the next refresh";
  fx.pool.blacklist(3, 0);
  EXPECT_EQ(spread(fx.chooser), (std::map<int, int>{{0, 64}, {1, 64}, {3, 128}})) << "and comes back";

  fx.pool.blacklist(0, 60);
  fx.pool.blacklist(1, 60);
  fx.pool.blacklist(3, 60);
  EXPECT_EQ(spread(fx.chooser), (std::map<int, int>{{-1, 256}})) << "nobody available: no server";
}

TEST(DsrPoolChooser, CountsFramesAndSentBytes) {
  Fixture fx;
  fx.configure(snapshotOf({{"10.0.0.1", 1}, {"10.0.0.2", 1}}));
  fx.chooser.count(1, 3, 180);
  fx.chooser.count(1, 1, 60);
  EXPECT_EQ(fx.chooser.frames(1), 4u);
  EXPECT_EQ(fx.chooser.frames(0), 0u);
  Stats s;
  fx.pool.fillStats(s);
  EXPECT_EQ(s.servers[1].sx, 240u);
  EXPECT_EQ(s.servers[0].sx, 0u);
}

}  // namespace
}  // namespace pen::dsr
