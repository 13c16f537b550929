// Priority: the available server with the smallest prio value; ties go to the lowest index.
// A failover therefore moves to the next-best priority, not merely the next index.
#include <climits>

#include "balance/algorithm.h"

namespace pen::balance {
namespace {

class Prio final : public Algorithm {
 public:
  int pick(const PickContext& ctx) override {
    int best = kNone, bestPrio = INT_MAX;
    for (int i = 0; i < ctx.size(); i++) {
      if (!ctx.available(i)) continue;
      int p = ctx.snap.servers[size_t(i)].prio;
      if (p < bestPrio) {
        bestPrio = p;
        best = i;
      }
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<Algorithm> makePrio() { return std::make_unique<Prio>(); }

}  // namespace pen::balance
