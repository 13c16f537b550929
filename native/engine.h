// The data plane engine: one worker thread with its own poller, the listener, the connection
// slots, the server runtime state and the client table.
//
// Threads: the worker runs the loop; JS-thread calls (configure, setListener, blacklist,
// closeConnection and the queries) take mu_, which the worker holds while it processes a
// loop turn but not while it waits in the poller, and wake it through a pipe. Only the
// worker touches the poller and the sockets of connections.
#pragma once
#include <cstdint>
#include <deque>
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
#include "loop/timers.h"
#include "loop/wakeup.h"
#include "snapshot.h"
#include "tcp/conn.h"

namespace pen {

class Engine : public DataPlane {
 public:
  /* poller: the mechanism to use; events: where records go (outlives the engine). */
  Engine(std::unique_ptr<loop::Poller> poller, events::Queue& events);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /* JS thread. Starts the worker; returns false with err when it cannot. */
  bool start(std::string& err) override;
  /* JS thread. Closes every connection and the listener, joins the worker. Idempotent. */
  void stop() override;

  /* JS thread. The snapshot takes effect at the worker's next loop turn. */
  void configure(std::shared_ptr<const Snapshot> snap) override;
  /* JS thread. Takes ownership of a listening fd; the previous listener is closed. */
  void setListener(int fd) override;
  void blacklist(int server, int seconds) override;
  bool closeConnection(uint32_t id) override;
  Stats stats() override;
  std::vector<ConnInfo> connections() override;
  std::vector<ClientInfo> clients(int sinceSec) override;

 private:
  // ---- engine.cc: the loop, the listener, the JS-facing state ----
  void run();
  void applyPending();
  void armListener();
  void acceptBatch();
  void onTimer(uint64_t key);
  void wake();
  balance::ServerRuntime* runtime(int server);
  const ServerConf* conf(int server) const;
  void log(int level, std::string text);
  void serverDown(int server, int err, const char* what);

  // ---- tcp/lifecycle.cc: one connection from accept to close ----
  void openConn(int fd, const net::Addr& peer);
  void chooseAndConnect(tcp::Conn& c, int first);
  enum class Try { kStarted, kRejected, kWaiting };
  void waitForDescriptor(tcp::Conn& c, int err);
  void retryWaiting();
  void pauseAccepting();
  void logFdShortage(const std::string& text);
  Try tryServer(tcp::Conn& c, int server);
  void connectFailed(tcp::Conn& c, int err);
  bool offerWhileConnecting(tcp::Conn& c);
  /* relayNow: forward what the client has sent at once (false when offerWhileConnecting did). */
  void connected(tcp::Conn& c, bool relayNow);
  void onConnEvent(tcp::Conn& c, int side, uint32_t events);
  void relay(tcp::Conn& c, bool upward);
  void takeLine(tcp::Conn& c);
  void afterIo(tcp::Conn& c);
  void updateInterest(tcp::Conn& c);
  void setInterest(tcp::Conn& c, int side, uint32_t mask);
  void closeConn(tcp::Conn& c, const char* why);
  void releaseServer(tcp::Conn& c);
  tcp::Conn* allocConn();
  uint64_t token(const tcp::Conn& c, int side) const;

  // ---- tcp/client_conn.cc: connections with a ClientIo (TLS, -H) ----
  bool startClientIo(tcp::Conn& c);
  void kickClientIo(tcp::Conn& c);
  void onClientIoEvent(tcp::Conn& c, uint32_t events);
  void onHandshakeTimer(tcp::Conn& c);

  std::unique_ptr<loop::Poller> poller_;
  events::Queue& events_;
  std::thread thread_;
  std::mutex mu_;
  loop::Wakeup wakeup_;
  bool stopping_ = false;
  bool started_ = false;

  // state handed over by the JS thread, applied by the worker (under mu_)
  std::shared_ptr<const Snapshot> nextSnap_;
  int nextListener_ = -1;
  bool hasNextListener_ = false;
  std::vector<uint32_t> killList_;

  // worker state (read by JS under mu_)
  std::shared_ptr<const Snapshot> snap_;
  std::unique_ptr<balance::Algorithm> algo_;
  std::string algoName_;
  std::vector<balance::ServerRuntime> rt_;  // regular servers
  balance::ServerRuntime emergencyRt_, abuseRt_;
  balance::ClientTable clients_{2048};
  std::vector<std::unique_ptr<tcp::Conn>> slots_;
  std::vector<uint32_t> freeSlots_;
  uint32_t active_ = 0, pending_ = 0;
  uint64_t accepted_ = 0, refused_ = 0;
  int current_ = 0;  // Stats::current
  int listenFd_ = -1;
  uint32_t listenMask_ = 0;
  int64_t acceptPausedUntilMs_ = 0;  // after EMFILE/ENFILE: keep the listener disarmed until then
  int64_t lastFdShortageLogMs_ = 0;
  std::deque<uint64_t> fdWaiters_;  // gen << 32 | id of connections in waitForDescriptor()
  bool fdFreed_ = false;            // a descriptor was released since the last retry
  bool retrying_ = false;           // inside retryWaiting()
  int64_t nowMs_ = 0;
  loop::Timers timers_;
  tcp::PipePool pipes_{1024};
  std::vector<char> scratch_;
  tcp::RelayEnv env_{};
};

}  // namespace pen
