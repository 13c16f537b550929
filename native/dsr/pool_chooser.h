// The DSR plane's Chooser over the balancing pool (balance/pool.h): the servers the pool
// holds available (PickContext::available: configured, not 0.0.0.0, not blacklisted)
// that have an IPv4 address fill Pen's DSR table (dsr/flow_table.h) by weight;
// the table is rebuilt when the pool publishes a new snapshot (seen at the next batch) and
// whenever the available set changes (looked at every kRecheckMs), so blacklists, weights and
// new servers apply at once (Pen built its table once). -r (no tracking) mixes the client port in, as in Pen.
// Counting: bytes go to the server's `sx` (what `servers` shows as sent to it); frames and
// bytes are also kept here per server (the DSR counters of `servers` and `status`).
// Threads: choose(), count() and refresh() are the DSR plane's thread's; frames() and
// bytes() any thread's.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "balance/pool.h"
#include "dsr/chooser.h"
#include "dsr/flow_table.h"

namespace pen::dsr {

class PoolChooser final : public Chooser {
 public:
  static constexpr int64_t kRecheckMs = 10;

  explicit PoolChooser(balance::Pool& pool);
  Choice choose(const FlowKey& flow) override;
  void count(int server, uint64_t frames, uint64_t bytes) override;
  void refresh() override;
  /* Frames forwarded to server (a regular index) so far. */
  uint64_t frames(int server) const;
  /* Bytes (whole Ethernet frames, as sent) forwarded to server (a regular index) so far. */
  uint64_t bytes(int server) const;

 private:
  void rebuild(bool force, int64_t nowMs);

  balance::Pool& pool_;
  uint64_t version_ = ~uint64_t(0);
  int64_t checkedMs_ = 0;
  std::vector<FlowTable::Server> built_;  // what table_ was built from
  FlowTable table_;
  bool hashPort_ = false;
  std::unique_ptr<std::atomic<uint64_t>[]> frames_;  // balance::kMaxServers
  std::unique_ptr<std::atomic<uint64_t>[]> bytes_;   // balance::kMaxServers
};

}  // namespace pen::dsr
