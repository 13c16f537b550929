// The idlers' plan (native/tcp/idlers.h): how `idlers N` is spread over workers, and the
// back-off that keeps a dead or closing backend from being hammered.
#include <gtest/gtest.h>

#include <vector>

#include "tcp/idlers.h"

namespace pen::tcp {
namespace {

TEST(IdlerPlan, ShareSpreadsTheRemainderOverTheFirstWorkers) {
  struct Row {
    int wanted, workers;
    std::vector<int> shares;
  };
  const Row rows[] = {
      {0, 1, {0}},          {2, 1, {2}},          {3, 2, {2, 1}},       {1, 4, {1, 0, 0, 0}},
      {7, 3, {3, 2, 2}},    {8, 4, {2, 2, 2, 2}}, {5, 0, {}},           {-1, 2, {0, 0}},
  };
  for (const Row& r : rows) {
    int sum = 0;
    for (int i = 0; i < int(r.shares.size()); i++) {
      EXPECT_EQ(IdlerPlan::share(r.wanted, r.workers, i), r.shares[size_t(i)]) << r.wanted << " over " << r.workers << ", worker " << i;
      sum += IdlerPlan::share(r.wanted, r.workers, i);
    }
    if (r.wanted > 0 && r.workers > 0) EXPECT_EQ(sum, r.wanted);
  }
}

TEST(IdlerPlan, StartsWhatIsMissingWhileHealthy) {
  IdlerPlan p;
  struct Row {
    int mine, live, expect;
  };
  for (Row r : {Row{2, 0, 2}, Row{2, 1, 1}, Row{2, 2, 0}, Row{2, 3, 0}, Row{0, 0, 0}, Row{5, 2, 3}})
    EXPECT_EQ(p.toStart(r.mine, r.live, 1000), r.expect) << r.mine << "/" << r.live;
  EXPECT_EQ(p.wakeAtMs(1000), 0);
}

/* One scripted event per row: what toStart() says at that time, and what happens next. */
enum class Ev { kAsk, kStart, kFail, kUp };
struct Step {
  int64_t t;
  Ev ev;
  int live = 0;    // kAsk: idlers open or connecting
  int expect = 0;  // kAsk: toStart() answer
};

void play(const std::vector<Step>& script, int mine) {
  IdlerPlan p;
  for (size_t i = 0; i < script.size(); i++) {
    const Step& s = script[i];
    switch (s.ev) {
      case Ev::kAsk: EXPECT_EQ(p.toStart(mine, s.live, s.t), s.expect) << "step " << i << " at " << s.t; break;
      case Ev::kStart: p.started(s.t); break;
      case Ev::kFail: p.failed(s.t); break;
      case Ev::kUp: p.established(s.t); break;
    }
  }
}

TEST(IdlerPlan, ADeadBackendGetsOneAttemptASecond) {
  play({{0, Ev::kAsk, 0, 2}, {0, Ev::kStart}, {0, Ev::kStart},
        {5, Ev::kFail}, {5, Ev::kFail},     // both connects refused
        {6, Ev::kAsk, 0, 0}, {999, Ev::kAsk, 0, 0},
        {1005, Ev::kAsk, 0, 1}, {1005, Ev::kStart}, {1005, Ev::kAsk, 1, 0},  // one probe
        {1006, Ev::kFail}, {1500, Ev::kAsk, 0, 0}, {2004, Ev::kAsk, 0, 0},
        {2005, Ev::kAsk, 0, 1}},
       2);
}

TEST(IdlerPlan, ABackendThatClosesAtOnceIsNoRecovery) {
  play({{0, Ev::kFail}, {1000, Ev::kAsk, 0, 1}, {1000, Ev::kStart},
        {1001, Ev::kUp}, {1002, Ev::kFail},  // connected, closed by the backend at once
        {1500, Ev::kAsk, 0, 0}, {2001, Ev::kAsk, 0, 1}},
       3);
}

TEST(IdlerPlan, RecoversOnceAnIdlerStayedUpASecond) {
  play({{0, Ev::kFail}, {1000, Ev::kAsk, 0, 1}, {1000, Ev::kStart}, {1001, Ev::kUp},
        {1500, Ev::kAsk, 1, 0},   // up half a second: still one at a time
        {2001, Ev::kAsk, 1, 2}},  // up a second: fill up at once
       3);
}

TEST(IdlerPlan, WakesAtTheRetryOrTheRecovery) {
  IdlerPlan p;
  p.failed(100);
  EXPECT_EQ(p.wakeAtMs(100), 1100);
  EXPECT_EQ(p.toStart(1, 0, 1100), 1);
  p.started(1100);
  EXPECT_EQ(p.wakeAtMs(1100), 2100);
  p.established(1150);
  EXPECT_EQ(p.wakeAtMs(1200), 2100);
  EXPECT_EQ(p.wakeAtMs(2100), 2150);
  EXPECT_EQ(p.wakeAtMs(2150), 0) << "nothing due by itself";
}

}  // namespace
}  // namespace pen::tcp
