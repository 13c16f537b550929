// What the TCP Engine and the UDP Balancer share: one worker thread with its own poller and
// wake-up pipe, the hand-over of requests from the JS thread, the loop skeleton, and the
// balancing state both keep (snapshot, algorithm, server runtime, client table, counters)
// with the DataPlane methods that only touch that state.
//
// The loop, each turn: wait in the poller; take mu_; apply what the JS thread handed over
// (snapshot, listener, operator closes); turn() (the data plane's events and per-turn work);
// flush the event records; wait again until the sooner of turn()'s deadline and the flush's.
//
// Threads: JS-thread calls take mu_, which the worker holds while it processes a turn but
// not while it waits in the poller, and wake it through the pipe. Every hook runs with mu_
// held: on the worker thread, except inUse() (both threads) and countOpen() (JS thread).
// Only the worker touches the poller and the sockets.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "balance/algorithm.h"
#include "balance/sticky.h"
#include "dataplane.h"
#include "events.h"
#include "loop/poller.h"
#include "loop/token.h"
#include "loop/wakeup.h"
#include "snapshot.h"

namespace pen {

class Worker : public DataPlane {
 public:
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /* JS thread. Registers the wake-up pipe and starts the worker; false with err when it cannot. */
  bool start(std::string& err) final;
  /* JS thread. Closes every connection/flow and the listener (closeAll()), joins the worker.
     Idempotent. A data plane calls it from its own destructor, while its hooks still exist. */
  void stop() final;
  /* JS thread. Hand-overs, applied by the worker at its next turn. */
  void configure(std::shared_ptr<const Snapshot> snap) final;
  void setListener(int fd) final;
  bool closeConnection(uint32_t id) final;
  /* JS thread, under mu_. */
  void blacklist(int server, int seconds) final;
  Stats stats() final;

 protected:
  /* poller: the mechanism to use; events: where records go (outlives the data plane). */
  Worker(std::unique_ptr<loop::Poller> poller, events::Queue& events);
  ~Worker() override = default;

  // ---- hooks, called with mu_ held; one call per turn on the event path (turn()) ----
  /* Handles the n events of one wait (a kWake token: drainWake()), then the turn's own work.
     Returns the milliseconds until its next deadline, -1 for none. */
  virtual int turn(const loop::Event* evs, int n) = 0;
  /* snap_ has just replaced prev (algorithm and client table capacity already follow it). */
  virtual void adoptSnapshot(const Snapshot& prev) = 0;
  /* Takes ownership of fd (from setListener) in place of the current listener. */
  virtual void adoptListener(int fd) = 0;
  /* Whether connection (UDP: flow) id is open. Worker or JS thread. */
  virtual bool inUse(uint32_t id) const = 0;
  /* Closes open connection (flow) id; why: the reason logged. */
  virtual void closeSlot(uint32_t id, const char* why) = 0;
  /* Shutdown: closes every connection (flow) and the listener. */
  virtual void closeAll() = 0;
  /* JS thread: connections (flows) open, and of those still connecting. */
  virtual void countOpen(uint32_t& active, uint32_t& pending) const = 0;

  // ---- worker thread ----
  void drainWake() { wakeup_.drain(); }
  /* Server runtime and configuration of server (regular index, kEmergency or kAbuse); nullptr
     when there is no such server. */
  balance::ServerRuntime* runtime(int server);
  const ServerConf* conf(int server) const;
  /* An event-log line when level <= the debug level. */
  void log(int level, std::string text);
  /* server failed (what: the attempted action, err: errno): count it; report the change
     from up to down once. */
  void serverDown(int server, int err, const char* what);
  /* server, reported down, answered (why: how); reports the change back to up. */
  void serverUp(int server, const char* why);

  std::unique_ptr<loop::Poller> poller_;
  events::Queue& events_;
  std::mutex mu_;

  // worker state (read by JS under mu_)
  std::shared_ptr<const Snapshot> snap_;
  std::unique_ptr<balance::Algorithm> algo_;
  std::string algoName_;
  std::vector<balance::ServerRuntime> rt_;  // regular servers
  balance::ServerRuntime emergencyRt_, abuseRt_;
  balance::ClientTable clients_{2048};
  uint64_t accepted_ = 0, refused_ = 0;
  int current_ = 0;  // Stats::current: the regular server chosen most recently
  int64_t nowMs_ = 0;

 private:
  void run();
  void applyPending();

  std::thread thread_;
  loop::Wakeup wakeup_;
  bool stopping_ = false;
  bool started_ = false;

  // state handed over by the JS thread, applied by the worker (under mu_)
  std::shared_ptr<const Snapshot> nextSnap_;
  int nextListener_ = -1;
  bool hasNextListener_ = false;
  std::vector<uint32_t> killList_;
};

}  // namespace pen
