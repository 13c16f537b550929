// Poller tokens (and the TCP Engine's timer keys): generation << 32 | slot << 2 | kind.
// Kinds 0 and 1 belong to the data plane (a connection's side, a flow's upstream socket, a
// timer kind); kListener and kWake are the same in every data plane (see worker.h).
#pragma once
#include <cstdint>

namespace pen::loop::token {

enum : uint64_t { kListener = 2, kWake = 3 };

/* slot: below 2^30; kind: below 4. */
inline uint64_t make(uint32_t gen, uint32_t slot, uint64_t kind) {
  return uint64_t(gen) << 32 | uint64_t(slot) << 2 | kind;
}
inline uint64_t kind(uint64_t t) { return t & 3; }
inline uint32_t slot(uint64_t t) { return uint32_t(t >> 2) & 0x3fffffff; }
inline uint32_t gen(uint64_t t) { return uint32_t(t >> 32); }

}  // namespace pen::loop::token
