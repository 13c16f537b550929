// Weighted least connections (Pen's "weight"): the available server with the smallest
// 256 * connections / weight; ties go to the lowest index. Servers with weight 0 are not
// chosen, except when no configured server has a weight at all: then every server counts as
// weight 1 (Pen drops every client in that case, spec/quirks.md 19).
#include <climits>

#include "balance/algorithm.h"

namespace pen::balance {
namespace {

class Weight final : public Algorithm {
 public:
  int pick(const PickContext& ctx) override {
    bool anyWeight = false;
    for (const auto& s : ctx.snap.servers) anyWeight |= s.configured() && s.weight > 0;
    int best = kNone;
    long long bestLoad = LLONG_MAX;
    for (int i = 0; i < ctx.size(); i++) {
      if (!ctx.available(i)) continue;
      int w = ctx.snap.servers[size_t(i)].weight;
      if (!anyWeight) w = 1;
      if (w <= 0) continue;
      long long load = 256LL * ctx.states.at(i)->conn.load(std::memory_order_relaxed) / w;
      if (load < bestLoad) {
        bestLoad = load;
        best = i;
      }
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<Algorithm> makeWeight() { return std::make_unique<Weight>(); }

}  // namespace pen::balance
