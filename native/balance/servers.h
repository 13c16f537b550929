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
  int64_t failedAtMs = 0;        // monotonic time of the last connect failure, 0 = none
  int64_t blacklistUntilMs = 0;  // monotonic end of a manual blacklist (server N blacklist T)
  uint64_t sx = 0;               // bytes sent to the server
  uint64_t rx = 0;               // bytes received from the server
  uint64_t failures = 0;         // connect failures
  bool down = false;             // a failure was reported and no success since

  /* End of the blacklist (monotonic ms; <= now means not blacklisted). A failure counts
     for the blacklist time in force now, so changing `blacklist N` applies to current
     blacklists too (spec/selection.md §6). */
  int64_t blacklistEnd(int blacklistSec) const {
    int64_t byFailure = failedAtMs ? failedAtMs + int64_t(blacklistSec) * 1000 : 0;
    return byFailure > blacklistUntilMs ? byFailure : blacklistUntilMs;
  }
  bool blacklisted(int64_t nowMs, int blacklistSec) const { return blacklistEnd(blacklistSec) > nowMs; }
  /* Manual blacklist for seconds from now; 0 clears every blacklist. */
  void blacklistFor(int64_t nowMs, int seconds) {
    failedAtMs = 0;
    blacklistUntilMs = seconds > 0 ? nowMs + int64_t(seconds) * 1000 : 0;
  }
};

}  // namespace pen::balance
