// The count of backend sockets that `transparent` could not bind to their client's address
// (those connections went out from pen's own address), and the rate limit of their log lines:
// each cause is logged the first time, then at most once per kLogEveryMs with the number of
// failures since. Held by the Pool (one per process); shown by `status` and USR1.
// Threads: any worker; a short lock on the failure path only.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>

namespace pen::balance {

class TransparentFailures {
 public:
  static constexpr int64_t kLogEveryMs = 60000;

  /* Counts one failure of cause (any small key: the caller's outcome and errno). Returns how
     many failures of that cause a log line is to report now (1 the first time; the number since
     the last line once kLogEveryMs has passed), or 0 for no line. */
  uint64_t note(int cause, int64_t nowMs) {
    count_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(mu_);
    auto [it, fresh] = causes_.try_emplace(cause, Cause{nowMs, 0});
    Cause& c = it->second;
    if (fresh) return 1;
    c.unreported++;
    if (nowMs - c.loggedMs < kLogEveryMs) return 0;
    c.loggedMs = nowMs;
    uint64_t n = c.unreported;
    c.unreported = 0;
    return n;
  }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Cause {
    int64_t loggedMs;
    uint64_t unreported;
  };
  std::atomic<uint64_t> count_{0};
  std::mutex mu_;
  std::map<int, Cause> causes_;  // bounded: a few outcomes times the errno values
};

}  // namespace pen::balance
