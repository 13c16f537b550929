// A UDP flow from its client's first datagram to its close: admission (client_acl, abuse
// server), server selection with failover (spec/selection.md §3-5, the same semantics as
// tcp/lifecycle.cc), moving a flow off a failed or blacklisted server, and the close.
// Balancer members; worker thread only, balancer lock held.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/udp.h"
#include "udp/balancer.h"

namespace pen::udp {

using balance::kAbuse;
using balance::kEmergency;
using balance::kNone;

namespace {
enum : uint64_t { kUpstream = 0 };
bool regular(int s) { return s >= 0; }
bool outOfDescriptors(int e) { return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM; }
}  // namespace

uint64_t Balancer::token(const Flow& f) const {
  return loop::token::make(f.gen, f.id, kUpstream);
}

/* The first datagram of a client address:port: admission and selection. Returns the new
   flow, connected to a server, or nullptr when the datagram is to be dropped (denied without
   an abuse server, no server available). Counts one client "connect" per flow. */
Flow* Balancer::openFlow(const net::Addr& client, const FlowKey& key) {
  int ci = clients_.touch(client, nowMs_, snap_->trackingSec);
  int remembered = clients_.at(ci).server;
  acl::ClientCountry country;  // handed to the flow, so its servers' acls reuse the lookup
  bool permitted = acl::permits(snap_->acls[size_t(snap_->clientAcl)], clients_.at(ci).key, snap_->geo.get(), country);
  if (!permitted && !snap_->hasAbuse) {
    // Denied: the abuse server if there is one, else dropped -- never the emergency server
    // (quirk 20).
    refused_++;
    if (snap_->debug >= 2) log(2, "datagram from " + client.host() + " denied by client_acl");
    return nullptr;
  }
  Flow* f = newFlow(key, client);
  if (!f) {
    refused_++;
    return nullptr;
  }
  accepted_++;
  f->country = country;
  f->lastActiveMs = nowMs_;
  if (!permitted) {
    f->initial = kAbuse;
    f->action = "choosing the abuse server";
    if (tryServer(*f, kAbuse) == Try::kStarted) return f;
    if (f->used) closeFlow(*f, "denied by client_acl, abuse server unusable");
    refused_++;
    return nullptr;
  }
  int first;
  if (snap_->track && regular(remembered) && size_t(remembered) < snap_->servers.size()) {
    first = remembered;
  } else {
    net::AddrKey ck = net::keyOf(client);
    balance::PickContext ctx{*snap_, rt_, ck, client.port(), nowMs_};
    first = algo_->pick(ctx);
  }
  f->initial = first;
  if (!chooseAndConnect(*f, first)) return nullptr;
  return f;
}

/* A fresh flow; when the table is at conn_max, the least recently active flow is closed
   first (datagrams staged for it are sent before). */
Flow* Balancer::newFlow(const FlowKey& key, const net::Addr& client) {
  size_t cap = size_t(snap_->connMax > 0 ? snap_->connMax : 1);
  if (flows_.size() >= cap) {
    flushStaged();
    while (flows_.size() >= cap)
      if (!evictOldest(nullptr, "evicted: connection table full")) break;
  }
  Flow* f = flows_.alloc(key, client);
  if (f) f->stageEpoch = 0;
  return f;
}

/* Closes the least recently active flow other than keep. Returns false when there is none. */
bool Balancer::evictOldest(const Flow* keep, const char* why) {
  Flow* victim = flows_.oldest();
  if (victim == keep) victim = victim && victim->prev >= 0 ? flows_.at(uint32_t(victim->prev)) : nullptr;
  if (!victim) return false;
  closeFlow(*victim, why);
  return true;
}

/* Tries server `first`, then fails over as the algorithm says, then the emergency server.
   Returns true when f is connected; otherwise f has been closed (and counted refused). */
bool Balancer::chooseAndConnect(Flow& f, int first) {
  int s = first;
  while (s != kNone) {
    if (regular(s)) {
      if (f.tried.size() < snap_->servers.size()) f.tried.resize(snap_->servers.size(), 0);
      f.tried[size_t(s)] = 1;
    }
    if (tryServer(f, s) == Try::kStarted) return true;
    if (!f.used) return false;  // closed for lack of descriptors
    if (snap_->stubborn || !regular(s)) break;
    net::AddrKey key = net::keyOf(f.client);
    balance::PickContext ctx{*snap_, rt_, key, f.client.port(), nowMs_, &f.tried, s};
    s = algo_->pick(ctx);
  }
  if (!snap_->stubborn && snap_->hasEmergency && f.server != kEmergency && s != kEmergency) {
    if (tryServer(f, kEmergency) == Try::kStarted) return true;
    if (!f.used) return false;
  }
  refused_++;
  closeFlow(f, "no server available");
  return false;
}

/* The checks of spec/selection.md §4 and the upstream socket. Rejections for limits do not
   blacklist; a socket that cannot be connected does. Unix-domain servers cannot take UDP. */
Balancer::Try Balancer::tryServer(Flow& f, int s) {
  const ServerConf* sc = conf(s);
  balance::ServerRuntime* rt = runtime(s);
  if (!sc || !rt || !sc->configured() || sc->addr.disabled()) return Try::kRejected;
  if (sc->addr.family() != AF_INET && sc->addr.family() != AF_INET6) return Try::kRejected;
  if (rt->blacklisted(nowMs_, snap_->blacklistSec)) return Try::kRejected;
  net::AddrKey key = net::keyOf(f.client);
  if (s != kAbuse && !acl::permits(snap_->acls[size_t(sc->acl)], key, snap_->geo.get(), f.country)) return Try::kRejected;
  int ci = clients_.find(key);
  if (sc->maxc > 0 && rt->conn >= sc->maxc) {
    bool sticky = ci >= 0 && clients_.at(ci).server == s;
    if (!(sticky && rt->conn < sc->hard)) return Try::kRejected;
  }
  f.action = "opening the upstream socket";
  int err = 0;
  const net::Addr* source = snap_->hasSource ? &snap_->source : nullptr;
  int fd = net::openUdpUpstream(sc->addr, source, err);
  if (fd < 0 && outOfDescriptors(err) && evictOldest(&f, "evicted: out of descriptors"))
    fd = net::openUdpUpstream(sc->addr, source, err);
  if (fd < 0) {
    if (outOfDescriptors(err)) {
      log(0, "socket for " + (regular(s) ? "server " + std::to_string(s) : std::string("a server")) + ": " +
                 strerror(err) + "; dropping the datagram");
      closeFlow(f, "out of descriptors");
      return Try::kRejected;
    }
    serverDown(s, err, "connect");
    return Try::kRejected;
  }
  if (int e = poller_->add(fd, loop::kRead, token(f))) {
    close(fd);
    log(0, std::string("poller: ") + strerror(e));
    closeFlow(f, "poller failure");
    return Try::kRejected;
  }
  rt->conn++;
  f.holdsServer = true;
  f.server = s;
  f.fd = fd;
  f.to = sc->addr;
  f.action = "relaying";
  if (regular(s)) current_ = s;
  if (regular(s) && ci >= 0) clients_.at(ci).server = s;
  return Try::kStarted;
}

/* True when f's server can no longer take its datagrams: removed, disabled, given another
   address, or blacklisted (by the operator or by a failure seen on another flow). Stubborn
   flows stay put unless the server itself is gone. */
bool Balancer::mustMove(const Flow& f) {
  const ServerConf* sc = conf(f.server);
  if (!sc || !sc->configured() || sc->addr.disabled()) return true;
  if (sc->addr.len != f.to.len || memcmp(&sc->addr.ss, &f.to.ss, f.to.len) != 0) return true;
  if (snap_->stubborn) return false;
  const balance::ServerRuntime* rt = runtime(f.server);
  return rt && rt->blacklisted(nowMs_, snap_->blacklistSec);
}

/* Moves f off a server that can no longer take its datagrams: when that server is still
   usable (it only got a new address), f reconnects to it; otherwise f goes where a failover
   from it would (without blacklisting it). Stubborn flows only reconnect to the same server;
   an abuse-server flow never moves elsewhere. Returns true when f is connected again;
   otherwise f is closed. */
bool Balancer::reselect(Flow& f) {
  int old = f.server;
  const ServerConf* sc = conf(old);
  const balance::ServerRuntime* rt = runtime(old);
  bool usable = sc && rt && sc->configured() && !sc->addr.disabled() && !rt->blacklisted(nowMs_, snap_->blacklistSec);
  detach(f);
  f.tried.clear();
  if (old == kAbuse) {
    if (usable && tryServer(f, kAbuse) == Try::kStarted) return true;
    refused_++;
    if (f.used) closeFlow(f, "abuse server unusable");
    return false;
  }
  if (snap_->stubborn || usable) return chooseAndConnect(f, old);
  net::AddrKey ck = net::keyOf(f.client);
  if (!regular(old) || size_t(old) >= snap_->servers.size()) {
    balance::PickContext ctx{*snap_, rt_, ck, f.client.port(), nowMs_};
    return chooseAndConnect(f, algo_->pick(ctx));
  }
  f.tried.resize(snap_->servers.size(), 0);
  f.tried[size_t(old)] = 1;
  balance::PickContext ctx{*snap_, rt_, ck, f.client.port(), nowMs_, &f.tried, old};
  return chooseAndConnect(f, algo_->pick(ctx));
}

/* f's server reported err (ICMP unreachable): blacklist it and fail over. With resend, the
   flow's last datagram goes to the new server. Returns true when f is connected again;
   otherwise f is closed. */
bool Balancer::failover(Flow& f, int err, bool resend) {
  int failed = f.server;
  serverDown(failed, err, "sending");
  if (snap_->stubborn || !regular(failed)) {
    refused_++;
    closeFlow(f, strerror(err));
    return false;
  }
  detach(f);
  if (f.tried.size() < snap_->servers.size()) f.tried.resize(snap_->servers.size(), 0);
  if (size_t(failed) < f.tried.size()) f.tried[size_t(failed)] = 1;
  net::AddrKey ck = net::keyOf(f.client);
  balance::PickContext ctx{*snap_, rt_, ck, f.client.port(), nowMs_, &f.tried, failed};
  if (!chooseAndConnect(f, algo_->pick(ctx))) return false;
  if (resend && !f.last.empty()) {
    ssize_t r = send(f.fd, f.last.data(), f.last.size(), MSG_DONTWAIT);
    if (r >= 0) {
      f.up += uint64_t(r);
      if (balance::ServerRuntime* rt = runtime(f.server)) rt->sx += uint64_t(r);
    }
  }
  return true;
}

/* Closes f's upstream socket and gives its server back; f stays in the table. */
void Balancer::detach(Flow& f) {
  if (f.fd >= 0) {
    poller_->remove(f.fd);
    close(f.fd);
    f.fd = -1;
  }
  if (f.holdsServer) {
    f.holdsServer = false;
    if (balance::ServerRuntime* rt = runtime(f.server))
      if (rt->conn > 0) rt->conn--;
  }
  f.server = kNone;
}

void Balancer::closeFlow(Flow& f, const char* why) {
  if (!f.used) return;
  if (snap_->debug >= 2)
    log(2, "flow " + std::to_string(f.id) + " from " + f.client.host() + ":" + std::to_string(f.client.port()) +
               " closed (" + f.action + "): " + why);
  detach(f);
  int ci = clients_.find(net::keyOf(f.client));
  if (ci >= 0) {
    clients_.at(ci).sx += f.down;
    clients_.at(ci).rx += f.up;
  }
  f.stageEpoch = 0;  // datagrams staged for it are dropped
  flows_.release(f);
}

}  // namespace pen::udp
