// The TCP data plane: one worker's listener, connection slots and timers, on the Worker's
// thread and loop (worker.h); every server choice is the pool's (balance/pool.h).
//
// Threads: as worker.h; only the worker touches the connections and their sockets.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "loop/io_batch.h"
#include "loop/timers.h"
#include "tcp/conn.h"
#include "tcp/idlers.h"
#include "worker.h"

namespace pen {

class Engine final : public Worker {
 public:
  /* As Worker's constructor. batchIo: read and forward small chunks of many connections with
     one system call per turn where the system allows it (tcp/read_ahead.cc). */
  Engine(balance::Pool& pool, int index, int count, std::unique_ptr<loop::Poller> poller, events::Queue& events,
         bool batchIo);
  ~Engine() override;

  void listConnections(std::vector<ConnInfo>& out) override;
  const char* kind() const override { return "tcp"; }
  bool ioBatched() const override { return batch_ != nullptr; }
  std::string ioPlainWhy() const override { return ioPlainWhy_; }

 private:
  // ---- engine.cc: the Worker hooks, the listener, timers ----
  /* Client-side events first, then backend-side ones (see engine.cc). */
  int turn(const loop::Event* evs, int n) override;
  void adoptSnapshot(const Snapshot& prev) override;
  /* fd: a listening socket; armed by armListener(). */
  void adoptListener(int fd) override;
  bool inUse(uint32_t id) const override;
  uint32_t numberOf(uint32_t id) const override { return slots_[id]->number; }
  void closeSlot(uint32_t id, const char* why) override;
  void closeAll() override;
  void armListener();
  static size_t pipeCap(const balance::Pool& pool, int count);
  static size_t pipeBytes(size_t pipes);
  void acceptBatch();
  void onTimer(uint64_t key);

  // ---- tcp/lifecycle.cc: one connection from accept to close ----
  void openConn(int fd, const net::Addr& peer);
  void connectNext(tcp::Conn& c);
  enum class Try { kStarted, kFailed, kWaiting };
  void waitForDescriptor(tcp::Conn& c, int err);
  void retryWaiting();
  void pauseAccepting();
  void logFdShortage(const std::string& text);
  Try startConnect(tcp::Conn& c);
  void setPending(tcp::Conn& c, bool on);
  void connectFailed(tcp::Conn& c, int err);
  bool offerWhileConnecting(tcp::Conn& c);
  /* relayNow: forward what the client has sent at once (false when offerWhileConnecting did). */
  void connected(tcp::Conn& c, bool relayNow);
  void onConnEvent(tcp::Conn& c, int side, uint32_t events);
  void relay(tcp::Conn& c, bool upward);
  void takeLine(tcp::Conn& c);
  void afterIo(tcp::Conn& c);
  bool fastclosesAt(bool upward) const;
  void updateInterest(tcp::Conn& c);
  void setInterest(tcp::Conn& c, int side, uint32_t mask);
  void closeConn(tcp::Conn& c, const char* why);
  tcp::Conn* allocConn();
  uint64_t token(const tcp::Conn& c, int side) const;

  // ---- tcp/read_ahead.cc: the first read and send of many events with one system call each,
  // and the turn's closes and new registrations with one more ----
  void startReadAhead();
  void closeFd(int fd);
  bool queueAdd(tcp::Conn& c, int side, uint32_t mask);
  void unqueueAdd(tcp::Conn& c, int side);
  void flushQueued();
  void readAhead(const loop::Event* evs, int n);
  bool canReadAhead(const tcp::Conn& c, int side, uint32_t events) const;
  void settleAheads();

  // ---- tcp/client_conn.cc: connections with a ClientIo (TLS, -H) ----
  bool startClientIo(tcp::Conn& c);
  void kickClientIo(tcp::Conn& c);
  void onClientIoEvent(tcp::Conn& c, uint32_t events);
  void onHandshakeTimer(tcp::Conn& c);

  // ---- tcp/dummy_conn.cc: `dummy` connections (tcp/dummy.h) ----
  void startDummy(tcp::Conn& c);
  void serveDummy(tcp::Conn& c);
  void serveDummyTls(tcp::Conn& c);

  // ---- tcp/idlers_conn.cc: `idlers N` (tcp/idlers.h) ----
  struct Idler {
    uint32_t slot;
    net::Addr to;  // its server's address when it connected (unset while connecting)
  };
  void keepIdlers();
  bool startIdler();
  void idlerConnected(tcp::Conn& c);
  void onIdlerEvent(tcp::Conn& c);
  bool drainIdler(tcp::Conn& c);
  void idlerGone(tcp::Conn& c);
  bool adoptIdler(tcp::Conn& c);
  bool idlerCurrent(const Idler& i);

  // worker state
  std::vector<std::unique_ptr<tcp::Conn>> slots_;
  std::vector<uint32_t> freeSlots_;
  int listenFd_ = -1;
  uint32_t listenMask_ = 0;
  int64_t acceptPausedUntilMs_ = 0;  // after EMFILE/ENFILE: keep the listener disarmed until then
  int64_t lastFdShortageLogMs_ = 0;
  std::deque<uint64_t> fdWaiters_;  // gen << 32 | id of connections in waitForDescriptor()
  bool fdFreed_ = false;            // a descriptor was released since the last retry
  bool retrying_ = false;           // inside retryWaiting()
  loop::Timers timers_;
  std::vector<uint64_t> due_;  // turn(): the timer keys due, reused
  bool edges_ = false;              // the poller reports plain relay sockets edge-triggered
  std::vector<uint64_t> comeBack_;  // tokens of sides pump() left with more to read: next turn's
  std::vector<loop::Event> merged_; // turn(): the poller's events and the come-backs
  tcp::PipePool pipes_;
  std::vector<char> scratch_;
  tcp::RelayEnv env_{};
  tcp::IdlerPlan idlerPlan_;
  std::vector<Idler> idlers_;         // this worker's idlers
  uint64_t idlersVersion_ = 0;        // viewVersion_ when keepIdlers() last checked them
  int64_t idlerWakeMs_ = 0;           // the kTimerIdlers timer set last
  // read ahead (tcp/read_ahead.cc)
  struct AheadOf {
    uint32_t id, gen;  // the connection
    bool up;           // the direction: client -> server
  };
  std::unique_ptr<loop::IoBatch> batch_;    // null: plain recv()/send()
  std::string ioPlainWhy_;                  // why batch_ is null
  std::vector<tcp::Ahead> aheads_;          // this turn's, by batch order
  std::vector<AheadOf> aheadOf_;
  std::vector<uint32_t> aheadSent_;         // the aheads_ whose read brought bytes to send
  std::vector<int32_t> batchRes_;
  std::unique_ptr<char[]> aheadBuf_;        // kAheadMax chunks of kAheadBytes (untouched until used)
  bool inTurn_ = false;                     // inside turn(): closes and adds wait for flushQueued()
  std::vector<int> closing_;                // sockets closed in this turn, not yet close()d
  struct QueuedAdd {
    int fd;
    uint32_t interest;
    uint64_t token;
    int32_t res = 0;  // flushQueued(): 0 or -errno
  };
  bool queueAdds_ = false;                  // batch_ can register sockets with the poller (epoll)
  std::vector<QueuedAdd> adds_;             // this turn's new registrations of connection sockets
  std::vector<QueuedAdd> addsRun_;          // flushQueued()'s: the adds being made
  std::vector<int> closesRun_;              // flushQueued()'s: the closes being made
};

}  // namespace pen
