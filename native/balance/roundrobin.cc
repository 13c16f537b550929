// Round robin: a cursor over the server table, skipping unavailable servers.
// Differences from Pen (spec/quirks.md 21): the first client goes to server 0, not 1; a
// failover continues after the server that failed and does not move the cursor (as Pen).
#include <atomic>

#include "balance/algorithm.h"

namespace pen::balance {
namespace {

class RoundRobin final : public Algorithm {
 public:
  int pick(const PickContext& ctx) override {
    if (ctx.size() == 0) return kNone;
    if (ctx.failedFrom >= 0) return ctx.scanFrom(ctx.failedFrom + 1);
    // Workers pick at once: each takes the next server after the cursor it saw, and tries
    // again when another moved the cursor first, so the turn is strict in aggregate.
    int cur = cursor_.load(std::memory_order_relaxed);
    for (;;) {
      int i = ctx.scanFrom(cur + 1);
      if (i == kNone || cursor_.compare_exchange_weak(cur, i, std::memory_order_relaxed)) return i;
    }
  }

 private:
  std::atomic<int> cursor_{-1};
};

}  // namespace

std::unique_ptr<Algorithm> makeRoundRobin() { return std::make_unique<RoundRobin>(); }

}  // namespace pen::balance
