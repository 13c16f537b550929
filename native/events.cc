#include "events.h"

namespace pen::events {

void Queue::push(Record r) {
  std::lock_guard<std::mutex> g(mu_);
  bool access = r.kind == Record::kAccess;
  if (access ? q_.size() >= accessMax_ : q_.size() >= max_) {
    (access ? droppedAccess_ : dropped_)++;
    return;
  }
  if (access) access_++;
  else urgent_ = true;
  q_.push_back(std::move(r));
}

int Queue::flush(int64_t nowMs) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (q_.empty() && !dropped_ && !droppedAccess_) {
      heldSinceMs_ = -1;
      return -1;
    }
    if (!urgent_ && !dropped_ && !droppedAccess_ && access_ < kAccessBatch) {
      if (heldSinceMs_ < 0) heldSinceMs_ = nowMs;
      int64_t left = heldSinceMs_ + kAccessDelayMs - nowMs;
      if (left > 0) return int(left);
    }
  }
  // Due. While a batch is in flight JS takes these with it, unless they came just after its
  // drain: look again shortly either way, so that nothing waits for the next event.
  if (!notify_ || inFlight_.exchange(true)) return kAccessDelayMs;
  if (!notify_()) {
    inFlight_.store(false);
    return kAccessDelayMs;
  }
  return -1;
}

std::vector<Record> Queue::drain(uint64_t& dropped, uint64_t& droppedAccess) {
  std::vector<Record> out;
  {
    std::lock_guard<std::mutex> g(mu_);
    out.swap(q_);
    dropped = dropped_;
    droppedAccess = droppedAccess_;
    dropped_ = droppedAccess_ = 0;
    access_ = 0;
    urgent_ = false;
    heldSinceMs_ = -1;
  }
  inFlight_.store(false);
  return out;
}

}  // namespace pen::events
