// THE balancing pool: the one owner of the balancing state that every data plane (TCP, UDP,
// and later DSR and health checks) asks: the published snapshot and its algorithm, the
// per-server state, the client (sticky) table, the process-wide connection counts, and the
// one selection routine (spec/selection.md §3-8: tracking, client_acl and the abuse server,
// per-server acls, soft/hard limits, blacklists, the algorithm's failover order, stubborn,
// the emergency server).
//
// A data plane drives one connection (or flow) through a Selection:
//   begin()      admission, once: client table, client_acl, the first choice;
//   next()       the next server to try, already counted in its conn (kNone: none left);
//   failed()     the attempt on sel.server failed: give it back and (unless the error is pen's
//                own shortage) blacklist it; next() then continues the failover;
//   succeeded()  the server answered (reported back up when it was down);
//   release()    the connection is over: give its server back.
//
// Threads: configure(), blacklist(), stats and clients() are the JS thread's; everything else
// is called by any number of workers at once. No lock is held across a loop turn: the
// snapshot is swapped under a mutex held for a pointer copy, server state is atomic, the
// client table has its own short lock.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "balance/algorithm.h"
#include "balance/servers.h"
#include "balance/sticky.h"
#include "balance/transparent_failures.h"
#include "report.h"
#include "events.h"
#include "geo/db.h"
#include "net/addr.h"
#include "net/transparent.h"
#include "snapshot.h"

namespace pen::tls {
class Server;  // tls/tls.h: the contexts built from a snapshot's TlsConf
}

namespace pen::balance {

/* One connection's (or flow's) way through the servers. Owned by its connection; only the
   worker of that connection touches it. */
struct Selection {
  net::AddrKey key;            // the client's, set by begin()
  int port = 0;                // the client's port (host order; hash -r mixes it in)
  acl::ClientCountry country;  // looked up once, shared by client_acl and the servers' acls
  int initial = kNone;         // the first choice (kAbuse for a client client_acl denied)
  int server = kNone;          // the server held (counted in its conn), or kNone
  int remembered = kNone;      // the client table's server for this client, as last set here
  int last = kNone;            // the server tried last (failover continues after it)
  uint8_t phase = 0;
  bool ipOnly = false;         // skip servers that are not IPv4/IPv6 (UDP cannot reach a path)
  bool noClient = false;       // an idler's (beginIdle): no client, so no client table, no acls
  std::vector<uint8_t> tried;  // regular servers tried, allocated on the first failover
};

/* What the workers run on, published together: a snapshot, the algorithm for it, and what
   was opened from it on the JS thread (held beside the plain data, shared with older views
   while the files are unchanged). */
struct View {
  std::shared_ptr<const Snapshot> snap;
  std::shared_ptr<Algorithm> algo;
  std::shared_ptr<const geo::Db> geo;       // set when snap->geoipDb is
  std::shared_ptr<const tls::Server> tls;   // set when snap->hasTls
};

class Pool {
 public:
  explicit Pool(events::Queue& events);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // ---- JS thread ----
  /* Publishes snap with its algorithm (the same object while the name is unchanged and it
     needs no rebuild, so a round-robin cursor carries on). Workers see it at their next turn
     (call the wake-ups after this). */
  void configure(std::shared_ptr<const Snapshot> snap, std::shared_ptr<const geo::Db> geo,
                 std::shared_ptr<const tls::Server> tls);
  /* Blacklists server (regular index, kEmergency or kAbuse) for seconds from now; 0 clears.
     A regular index beyond the snapshot is kept for when it is configured. */
  void blacklist(int server, int seconds);
  /* Process-wide counters and every server's state (regular, then emergency, abuse). */
  void fillStats(Stats& s);
  /* Clients seen within the last sinceSec seconds; bytes are those of finished connections. */
  std::vector<ClientInfo> clients(int sinceSec);
  /* wake is called (from any thread) when a connection slot comes free after conn_max or
     pending_max was reached, so that a worker that stopped accepting looks again.
     Register every worker's before it starts. */
  void onSlotFreed(std::function<void()> wake) { wakers_.push_back(std::move(wake)); }
  /* Forgets the wake-ups (every worker is stopped). */
  void clearWakers() { wakers_.clear(); }

  // ---- any thread ----
  std::shared_ptr<const View> view() const;
  /* Bumped by every configure(): a worker compares it before taking view(). */
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  /* The state of a server index covered by a published snapshot, kEmergency or kAbuse. */
  ServerState* state(int server) { return states_.at(server); }
  /* Every server's state, for a PickContext built outside the pool (the DSR chooser). */
  const ServerTable& states() const { return states_; }
  /* The slot of key in the client table (Pen's `client = N`), -1 if none. */
  int clientIndex(const net::AddrKey& key);

  // ---- workers: connection slots (-x conn_max, pending_max), process-wide ----
  /* Whether a client may be accepted now: fewer than connMax connections open, fewer than
     pendingMax connects in progress, and room in the descriptor budget for its two sockets.
     When not, the workers are woken (onSlotFreed) as soon as a connection ends. */
  bool mayAccept(int connMax, int pendingMax);
  /* Takes a connection slot; false when connMax connections are open. */
  bool reserveConn(int connMax);
  void releaseConn();
  /* Counts a connection without a limit (a UDP flow: its worker's table bounds it). */
  void addConn() { active_.fetch_add(1, std::memory_order_relaxed); }
  /* Counts a connect in progress (pending_max); releasePending() when it ends. */
  void addPending() { pending_.fetch_add(1, std::memory_order_relaxed); }
  void releasePending();
  uint32_t active() const { return active_.load(std::memory_order_relaxed); }
  uint32_t pending() const { return pending_.load(std::memory_order_relaxed); }

  // ---- workers: connection numbers (penctl `connection N`, `close N`), process-wide ----
  /* The lowest free number, now held by slot of worker. With at most conn_max connections
     open (reserveConn), numbers stay below conn_max, as Pen's table slots. */
  uint32_t takeNumber(int worker, uint32_t slot);
  void giveBackNumber(uint32_t number);
  /* The worker and slot holding number; false when it is not in use. */
  bool ownerOf(uint32_t number, int& worker, uint32_t& slot);

  // ---- workers: one connection's selection (see the top of this file) ----
  /* Admission of client: counts a connect in the client table, checks client_acl and sets
     sel.initial: the remembered server (tracking), the algorithm's choice, or kAbuse for a
     denied client. Returns false when the client is denied and there is no abuse server. */
  bool begin(Selection& sel, const View& v, const net::Addr& client, int64_t nowMs);
  /* Admission of a backend connection without a client (an idler, spec/dataplane.md §7):
     sel.initial is the algorithm's choice for no client in particular; no client table entry,
     no client_acl, and next() skips the servers' acls (there is no address to match). */
  void beginIdle(Selection& sel, const View& v, int64_t nowMs);
  /* The next server to try for sel, counted in its conn and remembered for the client;
     kNone when none is left (sel is then finished: counted refused by the caller). */
  int next(Selection& sel, const View& v, int64_t nowMs);
  /* The attempt on sel.server failed with err (what: the action, for the report): gives the
     server back and blacklists it -- unless err is pen's own shortage (no local port, no
     buffer), which is counted and logged but does not blame the server. Stubborn selections
     and hidden servers end here (next() returns kNone). */
  void failed(Selection& sel, const View& v, int err, const char* what, int64_t nowMs);
  /* sel.server answered: reported back up when it was down (why: how). */
  void succeeded(int server, const char* why);
  /* Gives sel.server back (no-op when it holds none). */
  void release(Selection& sel);
  /* Starts sel over with first as its first choice (a flow whose server changed address). */
  void restart(Selection& sel, int first);
  /* Starts sel over as a failover from old, without blaming old (a flow whose server was
     blacklisted or removed); an abuse-server selection starts over on the abuse server. */
  void moveFrom(Selection& sel, const View& v, int old, int64_t nowMs);
  /* A backend socket for client's connection to server could not take the client's address
     (`transparent`: tb.result is not kBound) and goes out from pen's own: counted in
     transparentFailures and logged (level 0) the first time for each cause, then at most
     once a minute per cause with the number since. balance/pool_transparent.cc. */
  void transparentFailed(const View& v, const net::Addr& client, int server, const net::TransparentBind& tb,
                         int64_t nowMs);
  /* Adds a finished connection's bytes to its client's entry. */
  void clientBytes(const net::AddrKey& key, uint64_t toClient, uint64_t fromClient);

  /* The configuration of server in snap (regular index, kEmergency or kAbuse), or nullptr. */
  static const ServerConf* conf(const Snapshot& snap, int server);
  /* "server 2 (10.0.0.2:80)", "emergency server (...)", for log lines. */
  static std::string describe(const Snapshot& snap, int server);

  /* Descriptors the workers hold (client and backend sockets, pipes, UDP flow sockets), and
     the most they may hold: RLIMIT_NOFILE less a reserve for the control plane, listeners
     and logs (set by the data plane before its workers start). */
  std::atomic<int64_t> fds{0};
  std::atomic<int64_t> fdBudget{INT64_MAX};

  std::atomic<uint64_t> accepted{0}, refused{0};
  std::atomic<uint64_t> localErrors{0};  // attempts that failed for pen's own shortage
  std::atomic<int> current{0};           // the regular server chosen most recently
  TransparentFailures transparentFailures;  // `transparent` binds that failed (connected from pen's address)
  std::atomic<uint64_t> dummyAnswers{0}; // `dummy`: replies queued to clients (tcp/dummy.h)
  std::atomic<int> idlers{0};            // idle backend connections open or connecting (tcp/idlers.h)

 private:
  /* Checks of spec/selection.md §4 and the conn count: true when sel may use s (counted). */
  bool acquire(Selection& sel, const View& v, int s, int64_t nowMs);
  void remember(const net::AddrKey& key, int server);
  void reportDown(const Snapshot& snap, int server, int err, const char* what);
  void wakeAll();

  events::Queue& events_;
  mutable std::mutex viewMu_;  // guards view_ (a pointer copy, never held longer)
  std::shared_ptr<const View> view_;
  std::atomic<uint64_t> version_{0};
  ServerTable states_;
  std::mutex clientsMu_;
  ClientTable clients_{2048};
  std::atomic<uint32_t> active_{0}, pending_{0};
  std::atomic<bool> full_{false};  // a reservation was refused: wake the workers on release
  std::vector<std::function<void()>> wakers_;
  std::atomic<int64_t> localErrorLogMs_{0};
  std::mutex numbersMu_;
  std::vector<uint32_t> freeNumbers_;  // a min-heap of given-back numbers below owners_.size()
  std::vector<uint64_t> owners_;       // by number: worker << 32 | slot, or kNoOwner
};

}  // namespace pen::balance
