// The records the data plane hands to JavaScript (log lines, server state changes, access
// records), queued by the worker and delivered in batches: at most one notification per loop
// turn, and none while the previous batch has not been drained. Access records are held a
// little to make batches worth a wake-up of the JS thread (kAccessBatch records or
// kAccessDelayMs, whichever comes first); other records go at once. Bounded: when full,
// records are dropped and counted, and the data plane never waits for JavaScript.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace pen::events {

struct Record {
  enum Kind { kLog, kServer, kAccess } kind = kLog;
  int level = 0;      // kLog: 0 error, 1 warning/info, 2+ debug
  int server = 0;     // kServer
  bool up = false;    // kServer
  std::string text;   // kLog: the message; kServer: the reason; kAccess: the packed record
                      // (log/capture.h accessRecord; layout in lib/engine/events.ts)
};

/* Access records are delivered once this many wait, or once the oldest has waited this long. */
constexpr size_t kAccessBatch = 512;
constexpr int kAccessDelayMs = 20;

/* The sooner of two poll timeouts in milliseconds, where -1 means none. */
inline int sooner(int a, int b) { return a < 0 ? b : b < 0 ? a : std::min(a, b); }

class Queue {
 public:
  /* max bounds the queue; access-log records may only fill the first 90% of it, so that a
     flood of them never pushes out server and error records. */
  explicit Queue(size_t max = 10000) : max_(max), accessMax_(max - max / 10) {}
  /* Worker thread. */
  void push(Record r);
  /* Worker thread, once per loop turn (nowMs: the loop's monotonic clock): notifies when
     records are due and none is in flight. Returns in how many milliseconds it wants to be
     called again (held access records, a notification that could not go yet), -1 if never. */
  int flush(int64_t nowMs);
  /* JS thread: takes every queued record; dropped receives the count of other records lost
     since last time, droppedAccess that of access-log records. */
  std::vector<Record> drain(uint64_t& dropped, uint64_t& droppedAccess);
  /* Set once before the worker starts; called from the worker thread, must not block;
     returns false when the notification could not be queued (it is retried next turn). */
  void setNotify(std::function<bool()> fn) { notify_ = std::move(fn); }

 private:
  std::mutex mu_;
  std::vector<Record> q_;
  size_t max_, accessMax_;
  uint64_t dropped_ = 0, droppedAccess_ = 0;
  size_t access_ = 0;          // access records queued
  bool urgent_ = false;        // a record that goes at once is queued
  int64_t heldSinceMs_ = -1;   // when flush() first saw the queued access records
  std::atomic<bool> inFlight_{false};
  std::function<bool()> notify_;
};

}  // namespace pen::events
