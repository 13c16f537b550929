// The JS-facing contract of a data plane: what addon.cc calls, whichever mode pen runs in.
// Two implementations: Engine (TCP, engine.h) and udp::Balancer (UDP, -U, udp/balancer.h);
// Pen's UDP mode is exclusive (-U makes the one listener UDP), so a process runs exactly one.
//
// Threads: every member is called on the JS thread only. Implementations own a worker
// thread; they hand requests over under their own lock and wake the worker (never poll).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "balance/servers.h"

namespace pen {

struct Snapshot;

struct Stats {
  uint64_t accepted = 0, refused = 0;
  uint32_t active = 0, pending = 0;
  int current = 0;  // the regular server chosen most recently (Pen's "current")
  std::vector<balance::ServerRuntime> servers;  // regular, then emergency, abuse
  std::vector<double> blacklistedUntilWallMs;   // same indexing; 0 = not blacklisted
};

struct ConnInfo {
  uint32_t id;
  int state, downfd, upfd, server, initial;
  std::string client;
  uint64_t pendingDown = 0, pendingUp = 0;  // bytes waiting to be written to client / server
  int clientIndex = -1;  // the client's slot in the client table (Pen's `client = %d`), -1 if none
};

struct ClientInfo {
  std::string address;
  int server;
  uint64_t connects, sx, rx;
  double lastSeenWallMs;
};


class DataPlane {
 public:
  virtual ~DataPlane() = default;

  /* Starts the worker; returns false with err when it cannot. */
  virtual bool start(std::string& err) = 0;
  /* Closes every connection/flow and the listener, joins the worker. Idempotent. */
  virtual void stop() = 0;
  /* The snapshot takes effect at the worker's next loop turn. */
  virtual void configure(std::shared_ptr<const Snapshot> snap) = 0;
  /* Takes ownership of a bound socket (TCP: listening; UDP: bound datagram socket); the
     previous listener is closed by the worker. */
  virtual void setListener(int fd) = 0;
  /* Blacklists server (regular index, kEmergency or kAbuse) for seconds from now; 0 clears. */
  virtual void blacklist(int server, int seconds) = 0;
  /* Closes connection (UDP: flow) id at the next loop turn; false when id is not in use. */
  virtual bool closeConnection(uint32_t id) = 0;
  virtual Stats stats() = 0;
  virtual std::vector<ConnInfo> connections() = 0;
  /* Clients seen within the last sinceSec seconds. */
  virtual std::vector<ClientInfo> clients(int sinceSec) = 0;
};

}  // namespace pen
