// Deadline queue for the worker: a min-heap of (when, key) with lazy cancellation.
// The owner re-checks the condition of a fired key (e.g. a connection's generation), so
// stale entries are harmless. Thread: the worker thread only.
#pragma once
#include <cstdint>
#include <queue>
#include <vector>

namespace pen::loop {

class Timers {
 public:
  void add(int64_t whenMs, uint64_t key) { heap_.push(Entry{whenMs, key}); }
  /* Milliseconds until the earliest deadline from nowMs (0 if due), or -1 when empty. */
  int nextTimeout(int64_t nowMs) const {
    if (heap_.empty()) return -1;
    int64_t d = heap_.top().when - nowMs;
    return d <= 0 ? 0 : int(d > 3600000 ? 3600000 : d);
  }
  /* Pops every key due at nowMs into out (appended). */
  void due(int64_t nowMs, std::vector<uint64_t>& out) {
    while (!heap_.empty() && heap_.top().when <= nowMs) {
      out.push_back(heap_.top().key);
      heap_.pop();
    }
  }
  size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    int64_t when;
    uint64_t key;
    bool operator>(const Entry& o) const { return when > o.when; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace pen::loop
