// Runtime state of the servers, kept beside the immutable ServerConf of the snapshot and
// keyed by index, so it survives a snapshot swap. Thread: the worker (reads by JS take the
// engine lock).
#pragma once
#include <cstdint>
#include <vector>

namespace pen::balance {

/* Server indices: regular servers are 0..N-1; the hidden slots keep Pen's numbers. */
constexpr int kEmergency = -1;
constexpr int kAbuse = -2;
constexpr int kNone = -3;

struct ServerRuntime {
  int conn = 0;                  // connections holding this server, counted from connect start
  int64_t blacklistUntilMs = 0;  // monotonic; blacklisted while now < this
  uint64_t sx = 0;               // bytes sent to the server
  uint64_t rx = 0;               // bytes received from the server
  uint64_t failures = 0;         // connect failures
  bool down = false;             // a failure was reported and no success since
};

}  // namespace pen::balance
