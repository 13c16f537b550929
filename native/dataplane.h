// The JS-facing contract of a data plane: what addon.cc calls, whichever mode pen runs in.
// Two implementations: Engine (TCP, engine.h) and udp::Balancer (UDP, -U, udp/balancer.h);
// Pen's UDP mode is exclusive (-U makes the one listener UDP), so a process runs exactly one.
//
// Threads: every member is called on the JS thread only. Implementations own a worker
// thread; they hand requests over under their own lock and wake the worker (never poll).
// The report structs (Stats, ConnInfo, ClientInfo) are declared in engine.h, which defines
// them for both implementations.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pen {

struct Snapshot;
struct Stats;
struct ConnInfo;
struct ClientInfo;

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
