// Pen's DSR choice table (native/dsr/flow_table.h): shares by weight, every slot filled, the
// same flow always on the same server, the port mixed in only when asked.
#include <gtest/gtest.h>

#include <map>

#include "dsr/flow_table.h"
#include "dsr_frames.h"

namespace pen::dsr::test {
namespace {

std::map<int, int> shares(const FlowTable& t) {
  std::map<int, int> n;
  FlowKey k;
  for (int h = 0; h < FlowTable::kSlots; h++) {
    k.src = {uint8_t(h), 0, 0, 0};
    n[t.lookup(k, false).server]++;
  }
  return n;
}

TEST(DsrFlowTable, SharesFollowWeights) {
  struct Case {
    const char* name;
    std::vector<FlowTable::Server> servers;
    std::map<int, int> slots;
  };
  const uint32_t a = ip(10, 0, 0, 11), b = ip(10, 0, 0, 12), c = ip(10, 0, 0, 13);
  const Case cases[] = {
      {"equal weights", {{0, a, 1}, {1, b, 1}}, {{0, 128}, {1, 128}}},
      {"weight 0 counts as 1", {{0, a, 0}, {1, b, 1}}, {{0, 128}, {1, 128}}},
      {"1:3", {{0, a, 1}, {2, b, 3}}, {{0, 64}, {2, 192}}},
      {"three, floors in index order", {{0, a, 1}, {1, b, 1}, {5, c, 1}}, {{0, 85}, {1, 85}, {5, 86}}},
      {"one server takes all", {{3, c, 7}}, {{3, 256}}},
  };
  for (const auto& k : cases) {
    FlowTable t;
    ASSERT_TRUE(t.build(k.servers)) << k.name;
    EXPECT_EQ(shares(t), k.slots) << k.name;
  }
}

TEST(DsrFlowTable, LookupIsStablePerClientAndCarriesTheAddress) {
  FlowTable t;
  t.build({{0, ip(10, 0, 0, 11), 1}, {1, ip(10, 0, 0, 12), 1}});
  FlowKey k;
  k.src = {10, 0, 0, 1};
  const Choice first = t.lookup(k, false);
  for (uint16_t port : {1000, 2000, 65535}) {
    k.sport = port;
    EXPECT_EQ(t.lookup(k, false).server, first.server) << "the port is not part of the key";
  }
  EXPECT_EQ(first.ipv4, first.server == 0 ? ip(10, 0, 0, 11) : ip(10, 0, 0, 12));
  EXPECT_EQ(FlowTable::hash(k, false), 10 ^ 1);
  k.sport = 0x0102;
  EXPECT_EQ(FlowTable::hash(k, true), 10 ^ 1 ^ 1 ^ 2) << "with -r the port bytes are mixed in";
}

TEST(DsrFlowTable, EmptyChoosesNobody) {
  FlowTable t;
  EXPECT_FALSE(t.build({}));
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.lookup(FlowKey{}, false).server, -1);
  t.build({{0, ip(1, 2, 3, 4), 1}});
  EXPECT_FALSE(t.empty());
  t.build({});
  EXPECT_EQ(t.lookup(FlowKey{}, false).server, -1) << "a rebuild to nothing forgets the old servers";
}

}  // namespace
}  // namespace pen::dsr::test
