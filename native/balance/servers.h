// Runtime state of the servers, kept beside the immutable ServerConf of the snapshot and
// keyed by index, so it survives a snapshot swap. ServerState is shared by every worker and
// the JS thread (atomics, relaxed: each field is a fact of its own); ServerRuntime is a plain
// copy of it for reports.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace pen::balance {

/* Server indices: regular servers are 0..N-1; the hidden slots keep Pen's numbers. */
constexpr int kEmergency = -1;
constexpr int kAbuse = -2;
constexpr int kNone = -3;
/* Regular indices run 0..kMaxServers-1 (lib/control/commands/servers.ts MAX_SERVERS; the
   addon exports it and the conformance test keeps the two equal). */
constexpr int kMaxServers = 65536;

/* A copy of one server's state, for reports. */
struct ServerRuntime {
  int conn = 0;                  // connections holding this server, counted from connect start
  int64_t failedAtMs = 0;        // monotonic time of the last connect failure, 0 = none
  int64_t blacklistUntilMs = 0;  // monotonic end of a manual blacklist (server N blacklist T)
  uint64_t sx = 0;               // bytes sent to the server
  uint64_t rx = 0;               // bytes received from the server
  uint64_t failures = 0;         // connect failures
  bool down = false;             // a failure was reported and no success since
};

struct ServerState {
  std::atomic<int> conn{0};
  std::atomic<int64_t> failedAtMs{0};
  std::atomic<int64_t> blacklistUntilMs{0};
  std::atomic<uint64_t> sx{0}, rx{0}, failures{0};
  std::atomic<bool> down{false};

  /* End of the blacklist (monotonic ms; <= now means not blacklisted). A failure counts
     for the blacklist time in force now, so changing `blacklist N` applies to current
     blacklists too (spec/selection.md §6). */
  int64_t blacklistEnd(int blacklistSec) const {
    int64_t failed = failedAtMs.load(std::memory_order_relaxed);
    int64_t manual = blacklistUntilMs.load(std::memory_order_relaxed);
    int64_t byFailure = failed ? failed + int64_t(blacklistSec) * 1000 : 0;
    return byFailure > manual ? byFailure : manual;
  }
  bool blacklisted(int64_t nowMs, int blacklistSec) const { return blacklistEnd(blacklistSec) > nowMs; }
  /* Manual blacklist for seconds from now; 0 clears every blacklist. */
  void blacklistFor(int64_t nowMs, int seconds) {
    failedAtMs.store(0, std::memory_order_relaxed);
    blacklistUntilMs.store(seconds > 0 ? nowMs + int64_t(seconds) * 1000 : 0, std::memory_order_relaxed);
  }
  void addBytes(uint64_t toServer, uint64_t fromServer) {
    if (toServer) sx.fetch_add(toServer, std::memory_order_relaxed);
    if (fromServer) rx.fetch_add(fromServer, std::memory_order_relaxed);
  }
  ServerRuntime copy() const {
    ServerRuntime r;
    r.conn = conn.load(std::memory_order_relaxed);
    r.failedAtMs = failedAtMs.load(std::memory_order_relaxed);
    r.blacklistUntilMs = blacklistUntilMs.load(std::memory_order_relaxed);
    r.sx = sx.load(std::memory_order_relaxed);
    r.rx = rx.load(std::memory_order_relaxed);
    r.failures = failures.load(std::memory_order_relaxed);
    r.down = down.load(std::memory_order_relaxed);
    return r;
  }
};

/* The states of every server index, created on demand and never moved or freed while the
   table lives, so a worker may hold a pointer across turns. Thread: ensure() is the JS
   thread's (it grows the table before a snapshot naming the new servers is published); at()
   is any thread's, for an index some published snapshot (or ensure()) has covered. */
class ServerTable {
 public:
  ServerTable() = default;
  ServerTable(const ServerTable&) = delete;
  ServerTable& operator=(const ServerTable&) = delete;

  /* Makes indices 0..n-1 exist (n is capped at kMaxServers). */
  void ensure(int n) {
    std::lock_guard<std::mutex> g(growMu_);
    if (n > kMaxServers) n = kMaxServers;
    for (int c = 0; c * kChunk < n; c++)
      if (!chunks_[c].load(std::memory_order_relaxed)) chunks_[c].store(new ServerState[kChunk], std::memory_order_release);
    if (n > size_.load(std::memory_order_relaxed)) size_.store(n, std::memory_order_release);
  }
  /* Regular index below size(), kEmergency or kAbuse; nullptr otherwise. */
  ServerState* at(int i) {
    if (i == kEmergency) return &emergency_;
    if (i == kAbuse) return &abuse_;
    if (i < 0 || i >= size_.load(std::memory_order_acquire)) return nullptr;
    return &chunks_[i / kChunk].load(std::memory_order_acquire)[i % kChunk];
  }
  const ServerState* at(int i) const { return const_cast<ServerTable*>(this)->at(i); }
  /* Regular indices that exist (the highest ensure()d). */
  int size() const { return size_.load(std::memory_order_acquire); }
  ~ServerTable() {
    for (auto& c : chunks_) delete[] c.load();
  }

 private:
  static constexpr int kChunk = 256;
  std::atomic<ServerState*> chunks_[kMaxServers / kChunk] = {};
  std::atomic<int> size_{0};
  std::mutex growMu_;
  ServerState emergency_, abuse_;
};

}  // namespace pen::balance
