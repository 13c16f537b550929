// The UDP data plane (-U): one worker thread with its own poller, the UDP listener, the flow
// table, and the same server runtime, client table, algorithms and ACLs as the TCP Engine
// (spec/selection.md; spec/dataplane.md §5 with quirks 5-7 fixed).
//
// Datagram path, batched: the listener is read with recvmmsg (up to kBatch datagrams per
// call); each datagram finds or opens its client's flow; each flow's datagrams leave with one
// sendmmsg on its upstream socket. Replies are read with recvmmsg per upstream socket,
// gathered across flows, and leave through the listener with one sendmmsg per batch, from
// the address the client sent to (IP_PKTINFO / IPV6_PKTINFO on a wildcard listener).
//
// Flows: at most conn_max (-x) at once, least recently active evicted first, each holding one
// connected upstream socket; a flow idle for idle_timeout seconds (60 when idle_timeout is 0)
// is closed. A server that answers with ICMP unreachable is blacklisted and the flow moves
// on (failover, resending its last datagram); a flow whose server is blacklisted, disabled
// or removed moves on its next datagram (unless stubborn).
//
// Threads: the worker thread and its loop are the Worker's (worker.h); only the worker
// touches the flows and their sockets. With several workers each has its own listener
// (SO_REUSEPORT: the kernel keeps a client address:port on one worker) and its own flows,
// conn_max / workers of them; server choice and client tracking are the pool's.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "udp/batch.h"
#include "udp/flow.h"
#include "worker.h"

namespace pen::udp {

/* Idle time after which a flow is closed when idle_timeout is 0 (Pen had no timer at all). */
constexpr int kDefaultIdleSec = 60;
/* The most flows one client address holds in one worker: beyond it, its own oldest flow
   makes room (a storm of source ports, as a resolver sends, recycles its own flows). */
constexpr uint32_t kMaxFlowsPerClient = 1024;
/* Making room, the least recently active flows are searched this far for one that has been
   answered, which goes before flows still waiting for a reply. */
constexpr int kEvictScan = 64;

class Balancer final : public Worker {
 public:
  /* As Worker's constructor. */
  Balancer(balance::Pool& pool, int index, int count, std::unique_ptr<loop::Poller> poller, events::Queue& events);
  ~Balancer() override;

  void listConnections(std::vector<ConnInfo>& out) override;
  void addLiveClientBytes(std::vector<ClientInfo>& clients) override;
  const char* kind() const override { return "udp"; }

 private:
  // ---- balancer.cc: the Worker hooks, expiry ----
  int turn(const loop::Event* evs, int n) override;
  void adoptSnapshot(const Snapshot& prev) override;
  /* fd: a bound UDP socket from net::openUdpListener. Replies still pending for the old
     listener are sent first. */
  void adoptListener(int fd) override;
  bool inUse(uint32_t id) const override;
  uint32_t numberOf(uint32_t id) const override { return flows_.at(id)->number; }
  void closeSlot(uint32_t id, const char* why) override;
  void closeAll() override;
  void expire();
  int64_t unansweredMs() const;
  int nextTimeoutMs() const;
  int64_t idleMs() const;
  void reportDrops();

  // ---- select.cc: a flow from its first datagram to its close ----
  Flow* openFlow(const net::Addr& client, const FlowKey& key);
  size_t flowCap() const;
  Flow* newFlow(const FlowKey& key, const net::Addr& client, const net::AddrKey& clientKey);
  bool connectNext(Flow& f);
  bool openUpstream(Flow& f);
  bool mustMove(const Flow& f);
  bool reselect(Flow& f);
  bool failover(Flow& f, int err, bool resend);
  void closeUpstream(Flow& f);
  void detach(Flow& f);
  void closeFlow(Flow& f, const char* why);
  bool evictOldest(const Flow* keep, const char* why);
  void linkClient(Flow& f);
  void unlinkClient(Flow& f);
  uint64_t token(const Flow& f) const;

  // ---- io.cc: the datagram paths ----
  void readListener();
  void route(int slot);
  void flushStaged();
  void sendUpstream(Flow& f, const int* slots, int n);
  void readUpstream(Flow& f);
  void flushReplies();

  // worker state
  FlowTable flows_;
  struct ClientFlows {
    int head = -1, tail = -1;  // oldest, newest
    uint32_t count = 0;
  };
  std::unordered_map<net::AddrKey, ClientFlows, net::AddrKeyHash> byClient_;
  struct Deadline {
    uint32_t id, gen;
    int64_t atMs;
  };
  std::deque<Deadline> unanswered_;  // udp_timeout: flows in creation order
  int listenFd_ = -1;
  int listenFamily_ = 0;
  bool listenWildcard_ = false;

  // datagram batches (io.cc)
  Batch in_, out_;
  int outCount_ = 0;
  std::vector<int> next_ = std::vector<int>(kBatch);  // staging chains through in_ slots
  std::vector<uint32_t> staged_;                       // flows with staged datagrams
  uint32_t stageEpoch_ = 1;
  std::vector<mmsghdr> upHdr_ = std::vector<mmsghdr>(kBatch);  // one send per entry
  std::vector<iovec> upIov_ = std::vector<iovec>(kBatch);      // indexed like the staged slots
  std::vector<Control> upCtrl_ = std::vector<Control>(kBatch);
  std::vector<int> upCount_ = std::vector<int>(kBatch);  // datagrams per entry (GSO: > 1)
  std::vector<uint32_t> outGroup_ = std::vector<uint32_t>(kBatch);  // out_ slots of one read
  uint32_t outGroupSeq_ = 0;
  std::vector<mmsghdr> replyHdr_ = std::vector<mmsghdr>(kBatch);
  std::vector<Control> replyCtrl_ = std::vector<Control>(kBatch);
  std::vector<int> replyCount_ = std::vector<int>(kBatch);
  bool replyGso_ = gsoBuilt();  // off once the kernel refused a GSO reply
  uint64_t dropped_ = 0, droppedReported_ = 0;
  int64_t dropsReportedMs_ = 0;
};

}  // namespace pen::udp
