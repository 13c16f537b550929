// What the TCP Engine and the UDP Balancer share: one worker thread with its own poller,
// wake-up pipe and connection (flow) slots, the hand-over of requests from the JS thread,
// and the loop skeleton. The balancing state is not here: every worker asks the one Pool
// (balance/pool.h).
//
// The loop, each turn: wait in the poller; take what the JS thread handed over (listener,
// calls); adopt the pool's newest snapshot if it changed; turn() (the data plane's events and
// per-turn work); flush the event records; wait again until the sooner of turn()'s deadline
// and the flush's.
//
// Threads: the JS thread never waits for a lock the worker holds across a turn: hand-overs
// take handMu_ for a few pointer moves, and call() waits at most until the worker's current
// turn ends. Every hook runs on the worker thread. Only the worker touches the poller, the
// sockets and the slots.
//
// Connection numbers (penctl `connection N`) are the pool's, process-wide (Pool::takeNumber);
// slots are this worker's own.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "balance/pool.h"
#include "dataplane.h"
#include "events.h"
#include "loop/poller.h"
#include "loop/token.h"
#include "loop/wakeup.h"
#include "snapshot.h"

namespace pen {

class Worker {
 public:
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  virtual ~Worker() = default;

  // ---- JS thread ----
  /* Registers the wake-up pipe and starts the thread; false with err when it cannot. */
  bool start(std::string& err);
  /* Closes every connection/flow and the listener (closeAll()), joins the thread.
     Idempotent. A data plane calls it from its own destructor, while its hooks still exist. */
  void stop();
  /* Hands over a bound socket (TCP: listening; UDP: bound datagram socket); the worker
     adopts it at its next turn and closes the one before. */
  void setListener(int fd);
  /* Runs fn on the worker thread between two turns and returns when it has run (at once,
     on this thread, when the worker is not running). */
  void call(const std::function<void()>& fn);
  /* Any thread: makes the worker look at the pool and its hand-overs now. */
  void wake() { wakeup_.notify(); }

  /* Worker thread (or the JS thread through call()). Slot-level queries and actions. */
  virtual void listConnections(std::vector<ConnInfo>& out) = 0;
  /* Closes slot's connection (flow) when it is open and still has number; false otherwise. */
  bool closeSlotIfOpen(uint32_t slot, uint32_t number);
  /* UDP adds the bytes of open flows to their clients' entries (TCP counts them at close). */
  virtual void addLiveClientBytes(std::vector<ClientInfo>& clients) { (void)clients; }

  int index() const { return index_; }
  /* "tcp" or "udp": the thread is named pen-KIND-INDEX (ps -L, top -H). */
  virtual const char* kind() const = 0;
  /* Clients (UDP: flows) this worker took on; any thread. */
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  /* How this worker reads and writes sockets (fixed once made; any thread): batched with
     loop::IoBatch, and else why not (empty when the question does not arise, as for UDP). */
  virtual bool ioBatched() const { return false; }
  virtual std::string ioPlainWhy() const { return {}; }

 protected:
  /* pool: the shared balancing state; index/count: this worker's place among count workers;
     poller: the mechanism to use; events: where records go (outlives the worker). */
  Worker(balance::Pool& pool, int index, int count, std::unique_ptr<loop::Poller> poller, events::Queue& events);

  // ---- hooks, on the worker thread; one call per turn on the event path (turn()) ----
  /* Handles the n events of one wait (a kWake token needs nothing more: the pipe is drained
     already), then the turn's own work. Returns the milliseconds until its next deadline, -1
     for none. */
  virtual int turn(const loop::Event* evs, int n) = 0;
  /* snap_ has just replaced prev. */
  virtual void adoptSnapshot(const Snapshot& prev) = 0;
  /* Takes ownership of fd (from setListener) in place of the current listener. */
  virtual void adoptListener(int fd) = 0;
  /* Whether slot is open. */
  virtual bool inUse(uint32_t slot) const = 0;
  /* The connection number of open slot. */
  virtual uint32_t numberOf(uint32_t slot) const = 0;
  /* Closes open slot; why: the reason logged. */
  virtual void closeSlot(uint32_t slot, const char* why) = 0;
  /* Shutdown: closes every connection (flow) and the listener. */
  virtual void closeAll() = 0;

  // ---- worker thread ----
  /* Server state (regular index, kEmergency or kAbuse) and configuration; nullptr when there
     is no such server in the current snapshot. */
  balance::ServerState* state(int server) { return conf(server) ? pool_.state(server) : nullptr; }
  const ServerConf* conf(int server) const { return balance::Pool::conf(*snap_, server); }
  /* An event-log line when level <= the debug level. */
  void log(int level, std::string text);

  balance::Pool& pool_;
  const int index_, count_;
  std::unique_ptr<loop::Poller> poller_;
  events::Queue& events_;
  std::shared_ptr<const balance::View> view_;  // what this worker runs on, this turn
  uint64_t viewVersion_ = 0;                   // pool_.version() when view_ was taken
  const Snapshot* snap_ = nullptr;             // view_->snap
  int64_t nowMs_ = 0;
  std::atomic<uint64_t> accepted_{0};  // written by this worker only

 private:
  void run();
  void takeHandovers();

  std::thread thread_;
  loop::Wakeup wakeup_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;

  // handed over by the JS thread (under handMu_)
  std::mutex handMu_;
  std::condition_variable handCv_;
  int nextListener_ = -1;
  bool hasNextListener_ = false;
  struct Call {
    const std::function<void()>* fn;
    bool done;
  };
  std::vector<Call*> calls_;
};

}  // namespace pen
