// `idlers N` (spec/dataplane.md §7, without Pen's bookkeeping bugs, quirk 13): N backend
// connections kept open without a client. An idler is a connection slot (Conn::idler) with a
// backend socket and no client socket: it takes a connection slot, a connection number and a
// descriptor, and counts in its server's conn like any connection. Its server is the pool's
// choice (Pool::beginIdle, then next/failed/succeeded/release as for a client), so a failed
// connect fails over and blacklists like any other. Whatever the backend sends is read and
// dropped; when the backend closes it (or its connect fails) it is closed and replaced.
//
// Hand-over: a client whose selection (Pool::next) lands on a server for which this worker
// holds an established idler that the backend has not closed takes that idler's socket
// instead of connecting; the idler's slot is given back and a new idler is started.
//
// Spread over workers: worker i of W keeps share(N, W, i) = N / W, plus one for the first
// N % W workers; a client can only take an idler of its own worker.
//
// Back-off: after an idler of a worker failed to connect or was closed by its backend, that
// worker starts at most one idler per kRetryMs, until one got established and no failure came
// for kRetryMs: a dead backend, or one that closes every connection at once, sees at most one
// attempt per second from each worker (each attempt tries a server at most once).
// (An idler counts as "up" kRetryMs after it connected: one closed at once is no recovery.)
// Threads: IdlerPlan is the worker's own.
#pragma once
#include <cstdint>
#include <initializer_list>

namespace pen::tcp {

class IdlerPlan {
 public:
  static constexpr int64_t kRetryMs = 1000;

  /* The idlers worker index of workers keeps for wanted in all. */
  static int share(int wanted, int workers, int index) {
    if (wanted <= 0 || workers <= 0) return 0;
    return wanted / workers + (index < wanted % workers ? 1 : 0);
  }

  /* How many idlers to start now, with `mine` wanted of this worker and `live` open or
     connecting. While failing: at most one per kRetryMs. Failing ends once an idler got
     established and neither it nor any other failed for kRetryMs after that. */
  int toStart(int mine, int live, int64_t nowMs) {
    if (failing_ && upAtMs_ >= 0 && nowMs - upAtMs_ >= kRetryMs) failing_ = false;
    if (live >= mine) return 0;
    if (!failing_) return mine - live;
    return nowMs >= retryAtMs_ ? 1 : 0;
  }
  /* An idler was started at nowMs (call once per start). */
  void started(int64_t nowMs) {
    if (failing_) retryAtMs_ = nowMs + kRetryMs;
  }
  /* An idler's connect failed, or its backend closed it, at nowMs. */
  void failed(int64_t nowMs) {
    if (!failing_) retryAtMs_ = nowMs + kRetryMs;
    failing_ = true;
    upAtMs_ = -1;
  }
  /* An idler got connected at nowMs. */
  void established(int64_t nowMs) {
    if (failing_ && upAtMs_ < 0) upAtMs_ = nowMs;
  }
  bool failing() const { return failing_; }
  /* While failing: the next time after nowMs at which toStart() may change its answer by
     itself (monotonic ms); 0 when none (not failing, or waiting for an idler's outcome). */
  int64_t wakeAtMs(int64_t nowMs) const {
    if (!failing_) return 0;
    int64_t best = 0;
    for (int64_t t : {retryAtMs_, upAtMs_ >= 0 ? upAtMs_ + kRetryMs : int64_t(0)})
      if (t > nowMs && (best == 0 || t < best)) best = t;
    return best;
  }

 private:
  bool failing_ = false;
  int64_t retryAtMs_ = 0;
  int64_t upAtMs_ = -1;  // while failing: when an idler got established since the last failure
};

}  // namespace pen::tcp
