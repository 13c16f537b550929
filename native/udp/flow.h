// UDP flows (Pen's UDP "pseudo-connections"): one client address:port -> one backend, through
// one upstream UDP socket connected to that backend. The kernel demultiplexes the backend's
// replies by that socket, and reports ICMP errors on it (failover).
//
// Bounds: the table holds at most `cap` flows (Pen's conn_max, -x); when a new client needs
// a flow and the table is full, the least recently active flow is evicted (Pen evicted the
// most recently allocated one, quirk 5), so descriptors are bounded by cap + a few whatever
// the number of clients. Idle flows expire (the balancer walks the LRU tail).
// Thread: the balancer's worker only.
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "acl/acl.h"
#include "balance/pool.h"
#include "net/addr.h"

namespace pen::udp {

/* The address a client's datagram was sent to (from IP_PKTINFO / IPV6_PKTINFO), so that the
   reply leaves from it. family 0: unknown, the listener's own address is used. */
struct Local {
  uint8_t family = 0;  // AF_INET, AF_INET6, or 0
  uint8_t addr[16] = {};
  uint32_t ifindex = 0;
  bool operator==(const Local& o) const;
};

/* A client's identity for flows: family tag, 16 address bytes (IPv4 as mapped), port. */
struct FlowKey {
  uint64_t w[3] = {0, 0, 0};
  bool operator==(const FlowKey& o) const { return w[0] == o.w[0] && w[1] == o.w[1] && w[2] == o.w[2]; }
};
struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const {
    uint64_t h = k.w[0] * 0x9e3779b97f4a7c15ull ^ k.w[1] * 0xc2b2ae3d27d4eb4full ^ k.w[2] * 0x165667b19e3779f9ull;
    return size_t(h ^ (h >> 29));
  }
};
FlowKey flowKeyOf(const net::Addr& client);

/* Up to this many bytes of the last datagram sent upstream are kept, to be resent to the
   next server when the current one turns out unreachable (DNS queries fit). */
constexpr size_t kResendMax = 512;

struct Flow {
  uint32_t id = 0;      // the slot in the worker's table
  uint32_t number = 0;  // the process-wide connection number (penctl `connection N`)
  uint32_t gen = 0;  // bumped on every reuse of the slot: stale poller events are dropped
  bool used = false;
  int fd = -1;       // upstream socket (connected to sel.server, registered for reading), or -1
  FlowKey key;
  net::Addr client;
  balance::Selection sel;  // the server choice: sel.server is the server fd is connected to
  net::Addr to;  // the server address `fd` is connected to (a changed address moves the flow)
  Local local;
  int64_t lastActiveMs = 0;  // last datagram either way (monotonic)
  uint64_t up = 0, down = 0;  // bytes client -> server, server -> client
  uint32_t replies = 0;        // datagrams relayed to the client (udp_responses)
  std::vector<char> last;      // last datagram sent upstream, when <= kResendMax
  const char* action = "";     // what was being attempted, for log lines
  bool noGso = false;          // the kernel refused a GSO send on this flow's socket
  int prev = -1, next = -1;    // LRU list, most recently active at the head
  int cprev = -1, cnext = -1;  // the flows of the same client address, oldest first
  // Staging of the current listener batch (io.cc): datagrams waiting to go upstream.
  uint32_t stageEpoch = 0;
  int stageHead = -1, stageTail = -1;
};

class FlowTable {
 public:
  /* The flow of key, or nullptr. */
  Flow* find(const FlowKey& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : slots_[it->second].get();
  }
  /* A fresh flow for key at the head of the LRU list. The caller makes room first
     (size() < its cap); returns nullptr only when 2^30 flows exist. */
  Flow* alloc(const FlowKey& key, const net::Addr& client);
  /* Unindexes and frees f (its fd must be closed already); its generation moves on. */
  void release(Flow& f);
  /* Marks f the most recently active. */
  void touch(Flow& f);
  /* The least recently active flow, or nullptr. */
  Flow* oldest() { return tail_ < 0 ? nullptr : slots_[size_t(tail_)].get(); }
  const Flow* oldest() const { return tail_ < 0 ? nullptr : slots_[size_t(tail_)].get(); }
  /* The flow in slot id when in use, else nullptr. */
  Flow* at(uint32_t id) { return id < slots_.size() && slots_[id]->used ? slots_[id].get() : nullptr; }
  const Flow* at(uint32_t id) const { return const_cast<FlowTable*>(this)->at(id); }
  size_t size() const { return index_.size(); }
  const std::vector<std::unique_ptr<Flow>>& slots() const { return slots_; }

 private:
  void unlink(Flow& f);
  void pushFront(Flow& f);

  std::vector<std::unique_ptr<Flow>> slots_;
  std::vector<uint32_t> free_;
  std::unordered_map<FlowKey, uint32_t, FlowKeyHash> index_;
  int head_ = -1, tail_ = -1;
};

}  // namespace pen::udp
