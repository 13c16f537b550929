#include "balance/algorithm.h"

namespace pen::balance {

const std::vector<AlgorithmEntry>& algorithms() {
  // Pen's precedence for the initial choice: prio > weight > hash > roundrobin.
  static const std::vector<AlgorithmEntry> table = {
      {"prio", makePrio},
      {"weight", makeWeight},
      {"hash", makeHash},
      {"roundrobin", makeRoundRobin},
  };
  return table;
}

std::unique_ptr<Algorithm> makeAlgorithm(const std::string& name) {
  for (const auto& e : algorithms())
    if (name == e.name) return e.make();
  return nullptr;
}

}  // namespace pen::balance
