// The records the data plane hands to JavaScript (log lines, server state changes), queued by
// the worker and delivered in batches: at most one notification per loop turn, and none
// while the previous batch has not been drained. Bounded: when full, records are dropped
// and counted, and the data plane never waits for JavaScript.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace pen::events {

struct Record {
  enum Kind { kLog, kServer } kind = kLog;
  int level = 0;      // kLog: 0 error, 1 warning/info, 2+ debug
  int server = 0;     // kServer
  bool up = false;    // kServer
  std::string text;   // kLog: the message; kServer: the reason
};

class Queue {
 public:
  explicit Queue(size_t max = 10000) : max_(max) {}
  /* Worker thread. */
  void push(Record r);
  /* Worker thread, once per loop turn: notifies when records wait and none is in flight. */
  void flush();
  /* JS thread: takes every queued record; dropped receives the count lost since last time. */
  std::vector<Record> drain(uint64_t& dropped);
  /* Set once before the worker starts; called from the worker thread, must not block;
     returns false when the notification could not be queued (it is retried next turn). */
  void setNotify(std::function<bool()> fn) { notify_ = std::move(fn); }

 private:
  std::mutex mu_;
  std::vector<Record> q_;
  size_t max_;
  uint64_t dropped_ = 0;
  std::atomic<bool> inFlight_{false};
  std::function<bool()> notify_;
};

}  // namespace pen::events
