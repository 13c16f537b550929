#include "events.h"

namespace pen::events {

void Queue::push(Record r) {
  std::lock_guard<std::mutex> g(mu_);
  if (q_.size() >= max_) {
    dropped_++;
    return;
  }
  q_.push_back(std::move(r));
}

void Queue::flush() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (q_.empty() && !dropped_) return;
  }
  if (!notify_ || inFlight_.exchange(true)) return;
  if (!notify_()) inFlight_.store(false);
}

std::vector<Record> Queue::drain(uint64_t& dropped) {
  std::vector<Record> out;
  {
    std::lock_guard<std::mutex> g(mu_);
    out.swap(q_);
    dropped = dropped_;
    dropped_ = 0;
  }
  inFlight_.store(false);
  return out;
}

}  // namespace pen::events
