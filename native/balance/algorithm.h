// The selection algorithm interface: an initial choice for a client without a remembered
// server, and the next choice on failover. One file per algorithm, one row per algorithm in
// registry.cc, one row in lib/config/algorithms.ts (kept equal by a conformance test).
// Threads: pick() is called by every worker at once (an algorithm's own state, such as a
// cursor, is atomic); rebuiltFor() by the JS thread (balance/pool.h).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "balance/servers.h"
#include "net/addr.h"
#include "snapshot.h"

namespace pen::balance {

struct PickContext {
  const Snapshot& snap;
  const ServerTable& states;  // covers every index of snap.servers
  const net::AddrKey& client;
  int clientPort = 0;                     // host order
  int64_t nowMs = 0;
  const std::vector<uint8_t>* tried = nullptr;  // servers already tried by this connection
  int failedFrom = kNone;                       // kNone: initial pick; else the server that failed

  /* Configured, not disabled (0.0.0.0), not blacklisted, not yet tried. */
  bool available(int i) const {
    const ServerConf& s = snap.servers[size_t(i)];
    if (!s.configured() || s.addr.disabled()) return false;
    if (states.at(i)->blacklisted(nowMs, snap.blacklistSec)) return false;
    return !(tried && (*tried)[size_t(i)]);
  }
  int size() const { return int(snap.servers.size()); }
  /* First available index scanning from start (mod N), or kNone. */
  int scanFrom(int start) const {
    int n = size();
    for (int k = 0; k < n; k++) {
      int i = ((start % n) + n + k) % n;
      if (available(i)) return i;
    }
    return kNone;
  }
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  /* Returns a server index or kNone. Same inputs (and internal cursor) -> same answer. */
  virtual int pick(const PickContext& ctx) = 0;
  /* The algorithm to use with snap, about to be published: nullptr keeps this one (nothing
     is derived from the server list). One with derived tables (Maglev) returns a new
     instance built for snap; this one stays valid for workers still on the old snapshot. */
  virtual std::shared_ptr<Algorithm> rebuiltFor(const Snapshot& snap) const {
    (void)snap;
    return nullptr;
  }
};

struct AlgorithmEntry {
  const char* name;
  std::unique_ptr<Algorithm> (*make)();
};

/* The registry: every algorithm this binary knows, in Pen's precedence order. */
const std::vector<AlgorithmEntry>& algorithms();
/* nullptr when name is unknown. */
std::unique_ptr<Algorithm> makeAlgorithm(const std::string& name);

std::unique_ptr<Algorithm> makeRoundRobin();
std::unique_ptr<Algorithm> makeHash();
std::unique_ptr<Algorithm> makeWeight();
std::unique_ptr<Algorithm> makePrio();

}  // namespace pen::balance
