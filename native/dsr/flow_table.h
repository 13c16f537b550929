// Pen's DSR choice table: 256 slots filled with the available servers in proportion to their
// weights, looked up by a hash of the client address (and, with Pen's -r, the client port).
// Stateless per frame, so every frame of a flow lands on the same server; the owner rebuilds
// it whenever the set of available servers or their weights change (Pen built it once: quirk
// 57). It is the Chooser's tool for algorithms whose own pick is not a function of the client
// (roundrobin, weight, prio count connections, which DSR never sees); which servers are
// available is the balancing pool's decision, passed in. Pure; no threads of its own.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dsr/chooser.h"

namespace pen::dsr {

class FlowTable {
 public:
  struct Server {
    int server;     // pool index
    uint32_t ipv4;  // wire bytes
    int weight;     // <= 0 counts as 1
  };
  static constexpr int kSlots = 256;

  /* Fills the table from servers (in index order; Pen's shares: floor(slots left * w /
     weight left), placed at slots 0, 3, 6, ... mod 256). Returns false and leaves the table
     empty when servers is empty. */
  bool build(const std::vector<Server>& servers);
  bool empty() const { return empty_; }
  /* The slot of a flow: xor of the client's address bytes, with ports also of the port bytes. */
  static uint8_t hash(const FlowKey& k, bool ports);
  /* The server for k; Choice{} (server -1) when the table is empty. */
  Choice lookup(const FlowKey& k, bool ports) const {
    return empty_ ? Choice{} : slots_[hash(k, ports)];
  }

 private:
  std::array<Choice, kSlots> slots_{};
  bool empty_ = true;
};

}  // namespace pen::dsr
