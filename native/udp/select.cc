// A UDP flow from its client's first datagram to its close: the pool's admission and server
// choice (balance/pool.h, the same routine as TCP's), moving a flow off a failed or
// blacklisted server, and the close. Balancer members; worker thread only.
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "net/errors.h"
#include "net/udp.h"
#include "udp/balancer.h"

namespace pen::udp {

using balance::kAbuse;
using balance::kNone;

namespace {
enum : uint64_t { kUpstream = 0 };
}  // namespace

uint64_t Balancer::token(const Flow& f) const {
  return loop::token::make(f.gen, f.id, kUpstream);
}

/* The first datagram of a client address:port: admission and selection. Returns the new
   flow, connected to a server, or nullptr when the datagram is to be dropped (denied without
   an abuse server, no server available). Counts one client "connect" per flow. */
Flow* Balancer::openFlow(const net::Addr& client, const FlowKey& key) {
  balance::Selection sel;
  sel.ipOnly = true;
  if (!pool_.begin(sel, *view_, client, nowMs_)) {
    pool_.refused.fetch_add(1, std::memory_order_relaxed);
    if (snap_->debug >= 2) log(2, "datagram from " + client.host() + " denied by client_acl");
    return nullptr;
  }
  Flow* f = newFlow(key, client, sel.key);
  if (!f) {
    pool_.refused.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  pool_.accepted.fetch_add(1, std::memory_order_relaxed);
  accepted_.fetch_add(1, std::memory_order_relaxed);
  f->sel = std::move(sel);
  linkClient(*f);
  f->lastActiveMs = nowMs_;
  if (!connectNext(*f)) return nullptr;
  return f;
}

/* This worker's share of conn_max (-x) and of the descriptor budget: the flow table of each
   of n workers holds min(conn_max, budget) / n flows (at least one). */
size_t Balancer::flowCap() const {
  int64_t n = std::min<int64_t>(snap_->connMax, pool_.fdBudget.load(std::memory_order_relaxed)) / count_;
  return size_t(n > 0 ? n : 1);
}

/* A fresh flow. A client address at kMaxFlowsPerClient gives up its own oldest flow first;
   when the table is full, the least recently active flow goes (evictOldest). Datagrams staged
   for a flow that goes are sent before. */
Flow* Balancer::newFlow(const FlowKey& key, const net::Addr& client, const net::AddrKey& clientKey) {
  auto it = byClient_.find(clientKey);
  if (it != byClient_.end() && it->second.count >= std::min<size_t>(kMaxFlowsPerClient, flowCap())) {
    flushStaged();
    if (Flow* own = flows_.at(uint32_t(it->second.head))) closeFlow(*own, "evicted: the client holds too many flows");
  }
  size_t cap = flowCap();
  if (flows_.size() >= cap) {
    flushStaged();
    while (flows_.size() >= cap)
      if (!evictOldest(nullptr, "evicted: connection table full")) break;
  }
  Flow* f = flows_.alloc(key, client);
  if (f) {
    f->stageEpoch = 0;
    f->number = pool_.takeNumber(index_, f->id);
    pool_.addConn();
    if (snap_->udpTimeoutSec > 0) unanswered_.push_back(Deadline{f->id, f->gen, nowMs_ + unansweredMs()});
  }
  return f;
}

/* Closes a flow other than keep to make room: among the kEvictScan least recently active,
   the first that has been answered, else the least recently active. Returns false when there
   is none. */
bool Balancer::evictOldest(const Flow* keep, const char* why) {
  Flow* victim = nullptr;
  Flow* f = flows_.oldest();
  for (int k = 0; f && k < kEvictScan; k++, f = f->prev >= 0 ? flows_.at(uint32_t(f->prev)) : nullptr) {
    if (f == keep) continue;
    if (!victim) victim = f;
    if (f->replies > 0) {
      victim = f;
      break;
    }
  }
  if (!victim) return false;
  closeFlow(*victim, why);
  return true;
}

/* Appends f (its selection begun: f.sel.key set) to its client address's flows. */
void Balancer::linkClient(Flow& f) {
  ClientFlows& c = byClient_[f.sel.key];
  f.cprev = c.tail;
  f.cnext = -1;
  if (c.tail >= 0) flows_.at(uint32_t(c.tail))->cnext = int(f.id);
  else c.head = int(f.id);
  c.tail = int(f.id);
  c.count++;
}

void Balancer::unlinkClient(Flow& f) {
  auto it = byClient_.find(f.sel.key);
  if (it == byClient_.end()) return;
  ClientFlows& c = it->second;
  if (f.cprev >= 0) flows_.at(uint32_t(f.cprev))->cnext = f.cnext;
  else c.head = f.cnext;
  if (f.cnext >= 0) flows_.at(uint32_t(f.cnext))->cprev = f.cprev;
  else c.tail = f.cprev;
  f.cprev = f.cnext = -1;
  if (--c.count == 0) byClient_.erase(it);
}

/* Connects f to the next server the pool offers, failing over on sockets that cannot be
   opened. Returns true when f is connected; otherwise f has been closed (and counted refused). */
bool Balancer::connectNext(Flow& f) {
  for (;;) {
    if (pool_.next(f.sel, *view_, nowMs_) == kNone) {
      pool_.refused.fetch_add(1, std::memory_order_relaxed);
      closeFlow(f, f.sel.initial == kAbuse ? "denied by client_acl, abuse server unusable" : "no server available");
      return false;
    }
    if (openUpstream(f)) return true;
    if (!f.used) return false;
  }
}

/* The upstream socket to f.sel.server (held). False when it cannot be had: the pool was told
   (the selection goes on), or f was closed for lack of descriptors. */
bool Balancer::openUpstream(Flow& f) {
  const ServerConf* sc = conf(f.sel.server);
  f.action = "opening the upstream socket";
  int err = 0;
  const net::Addr* source = snap_->hasSource ? &snap_->source : nullptr;
  net::TransparentBind tb{&f.client};
  net::TransparentBind* transparent = snap_->transparent && !source ? &tb : nullptr;  // `source` wins, as in Pen
  int fd = net::openUdpUpstream(sc->addr, source, transparent, err);
  if (fd < 0 && net::outOfDescriptors(err) && evictOldest(&f, "evicted: out of descriptors"))
    fd = net::openUdpUpstream(sc->addr, source, transparent, err);
  if (fd >= 0 && tb.result != net::Transparency::kBound) pool_.transparentFailed(*view_, f.client, f.sel.server, tb, nowMs_);
  if (fd < 0) {
    if (net::outOfDescriptors(err)) {
      log(0, "socket for " + balance::Pool::describe(*snap_, f.sel.server) + ": " + strerror(err) +
                 "; dropping the datagram");
      pool_.refused.fetch_add(1, std::memory_order_relaxed);
      closeFlow(f, "out of descriptors");
      return false;
    }
    pool_.failed(f.sel, *view_, err, "connect", nowMs_);
    return false;
  }
  if (int e = poller_->add(fd, loop::kRead, token(f))) {
    close(fd);
    log(0, std::string("poller: ") + strerror(e));
    pool_.refused.fetch_add(1, std::memory_order_relaxed);
    closeFlow(f, "poller failure");
    return false;
  }
  f.fd = fd;
  pool_.fds.fetch_add(1, std::memory_order_relaxed);
  f.to = sc->addr;
  f.action = "relaying";
  return true;
}

/* True when f's server can no longer take its datagrams: removed, disabled, given another
   address, or blacklisted (by the operator or by a failure seen on another flow). Stubborn
   flows stay put unless the server itself is gone. */
bool Balancer::mustMove(const Flow& f) {
  const ServerConf* sc = conf(f.sel.server);
  if (!sc || !sc->configured() || sc->addr.disabled()) return true;
  if (sc->addr.len != f.to.len || memcmp(&sc->addr.ss, &f.to.ss, f.to.len) != 0) return true;
  if (snap_->stubborn) return false;
  const balance::ServerState* st = pool_.state(f.sel.server);
  return st && st->blacklisted(nowMs_, snap_->blacklistSec);
}

/* Moves f off a server that can no longer take its datagrams: when that server is still
   usable (it only got a new address), f reconnects to it; otherwise f goes where a failover
   from it would (without blacklisting it). Stubborn flows only reconnect to the same server;
   an abuse-server flow never moves elsewhere. Returns true when f is connected again;
   otherwise f is closed. */
bool Balancer::reselect(Flow& f) {
  int old = f.sel.server;
  const ServerConf* sc = conf(old);
  const balance::ServerState* st = sc ? pool_.state(old) : nullptr;
  bool usable = sc && st && sc->configured() && !sc->addr.disabled() && !st->blacklisted(nowMs_, snap_->blacklistSec);
  detach(f);
  if (old != kAbuse && (snap_->stubborn || usable)) pool_.restart(f.sel, old);
  else pool_.moveFrom(f.sel, *view_, old, nowMs_);
  return connectNext(f);
}

/* f's server reported err (ICMP unreachable): the pool blacklists it and f fails over. With
   resend, the flow's last datagram goes to the new server. Returns true when f is connected
   again; otherwise f is closed. */
bool Balancer::failover(Flow& f, int err, bool resend) {
  closeUpstream(f);
  pool_.failed(f.sel, *view_, err, "sending", nowMs_);
  if (!connectNext(f)) return false;
  if (resend && !f.last.empty()) {
    ssize_t r = send(f.fd, f.last.data(), f.last.size(), MSG_DONTWAIT);
    if (r >= 0) {
      f.up += uint64_t(r);
      if (balance::ServerState* st = state(f.sel.server)) st->addBytes(uint64_t(r), 0);
    }
  }
  return true;
}

/* Closes f's upstream socket; f keeps its server. */
void Balancer::closeUpstream(Flow& f) {
  if (f.fd < 0) return;
  poller_->remove(f.fd);
  close(f.fd);
  f.fd = -1;
  pool_.fds.fetch_sub(1, std::memory_order_relaxed);
}

/* Closes f's upstream socket and gives its server back; f stays in the table. */
void Balancer::detach(Flow& f) {
  closeUpstream(f);
  pool_.release(f.sel);
}

void Balancer::closeFlow(Flow& f, const char* why) {
  if (!f.used) return;
  if (snap_->debug >= 2)
    log(2, "flow " + std::to_string(f.number) + " from " + f.client.host() + ":" + std::to_string(f.client.port()) +
               (f.sel.server != kNone ? " to " + balance::Pool::describe(*snap_, f.sel.server) : std::string()) +
               " closed (" + f.action + "): " + why);
  detach(f);
  pool_.clientBytes(f.sel.key, f.down, f.up);
  f.stageEpoch = 0;  // datagrams staged for it are dropped
  unlinkClient(f);
  flows_.release(f);
  pool_.giveBackNumber(f.number);
  pool_.releaseConn();
}

}  // namespace pen::udp
