// The data plane as the JS side sees it (addon.cc converts and forwards to it, nothing more):
// the one balancing pool, N workers of one kind -- TCP (Engine, tcp/engine.h) or UDP
// (udp::Balancer, -U; Pen's UDP mode is exclusive, so a process runs one kind) -- their
// listeners, and what a snapshot carries beside its plain data (TLS contexts, the GeoIP
// database).
//
// Threads: every member is called on the JS thread. Requests reach the workers through the
// pool (snapshots, blacklists: atomics) or through hand-overs (listeners, per-connection
// queries); none waits for a lock a worker holds across a loop turn.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "balance/pool.h"
#include "events.h"
#include "geo/db.h"
#include "report.h"
#include "snapshot.h"
#include "tls/tls.h"

namespace pen {

class Worker;
namespace dsr {
class Plane;
class PoolChooser;
}  // namespace dsr

/* A refusal with a PEN_ERR_ code for the JS side. A bind failure also names the address
   and the reason apart (PEN_ERR_BIND). */
struct PlaneError : std::runtime_error {
  PlaneError(const std::string& code, const std::string& message, std::string address = "", std::string reason = "")
      : std::runtime_error(message), code(code), address(std::move(address)), reason(std::move(reason)) {}
  std::string code, address, reason;
};

struct PlaneOptions {
  std::string poller = "default";  // loop::makePoller name
  bool udp = false;                // -U
  int workers = 1;                 // 1..kMaxWorkers
};

constexpr int kMaxWorkers = 256;
/* Descriptors kept out of the workers' budget for the control plane: this many, or a quarter
   of a smaller limit, plus 4 per worker (its listener and wake-up pipe). */
constexpr int64_t kFdReserve = 128;

class DataPlane {
 public:
  /* Starts opts.workers workers (nothing listens yet). Throws PlaneError PEN_ERR_POLLER or
     PEN_ERR_ENGINE. events outlives the plane. */
  DataPlane(const PlaneOptions& opts, events::Queue& events);
  ~DataPlane();

  /* Closes every connection/flow and listener, joins the workers. Idempotent. */
  void stop();
  /* Replaces the workers by n new ones on the event backend poller (empty: the current one)
     (`workers N`, `epoll`, `poll` in -O or the -F file, read after the plane was made). Only
     before the first listen(): throws PlaneError PEN_ERR_WORKERS after it, PEN_ERR_POLLER
     when the backend is not available. The pool, and with it every server and client state,
     stays. */
  void setWorkers(int n, const std::string& poller = "");
  /* Opens snap's TLS contexts and GeoIP database and publishes it; every worker takes it at
     its next turn. Throws PlaneError PEN_ERR_TLS / PEN_ERR_GEOIP (nothing changes then);
     warnings go to the event log. */
  void configure(Snapshot snap);
  /* Opens the listeners (one per worker; the mode decides TCP or UDP) and hands them over;
     the previous ones are closed by the workers. Returns the bound port (0 for unix).
     Throws PlaneError PEN_ERR_BIND (address, reason) and keeps the old listeners.
     With the snapshot's dsrIf set, spec is the VIP (IPv4; port 0 = every port) and the DSR
     plane (native/dsr/plane.h) starts on that interface instead: no socket listens. */
  int listen(const ListenSpec& spec);
  /* Blacklists server (regular index, kEmergency or kAbuse) for seconds from now; 0 clears. */
  void blacklist(int server, int seconds) { pool_.blacklist(server, seconds); }
  /* Closes connection (UDP: flow) id; false when no such connection is open. */
  bool closeConnection(uint32_t id);
  Stats stats();
  std::vector<ConnInfo> connections();
  /* Clients seen within the last sinceSec seconds. */
  std::vector<ClientInfo> clients(int sinceSec);
  /* The ISO code of addr in the database of the last configure, "" when unknown. */
  std::string countryOf(const net::Addr& addr) const;
  int workers() const { return int(workers_.size()); }
  /* Runs fn on every worker thread, one after the other (Worker::call): for what acts on the
     calling thread itself, such as its capabilities (util/capabilities.h). */
  void onEachWorker(const std::function<void()>& fn);

 private:
  void startWorkers(int n);
  void setFdBudget(int workers);
  void openGeo(Snapshot& s, std::shared_ptr<const geo::Db>& db);
  void warn(std::string text);
  int listenDsr(const ListenSpec& spec, const Snapshot& snap);
  void configureDsr(const Snapshot& snap);

  events::Queue& events_;
  balance::Pool pool_;
  bool udp_;
  std::string poller_;
  bool listened_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  tls::Cache tls_;  // the TLS contexts of the last configure (rebuilt when a file changes)
  geo::Cache geo_;  // the country database of the last configure (reopened when the file changes)
  std::string geoBadFingerprint_;  // the version of that file last found unreadable (warned once)
  net::Addr listening_;            // what the listeners are bound to (port as bound)
  // Direct Server Return (dsr_if): the plane and its chooser over pool_; null when off
  std::unique_ptr<dsr::PoolChooser> dsrChooser_;
  std::unique_ptr<dsr::Plane> dsr_;
  uint32_t dsrVip_ = 0;  // wire bytes
  int dsrPort_ = 0;
  int64_t fdLimit_ = 0;            // RLIMIT_NOFILE after raising the soft limit
};

}  // namespace pen
