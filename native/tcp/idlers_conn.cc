// `idlers N` (tcp/idlers.h) as Engine members: starting, keeping, replacing and handing over
// this worker's idle backend connections. Worker thread only.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/errors.h"
#include "tcp/engine.h"

namespace pen {

using tcp::Conn;

namespace {
bool sameAddr(const net::Addr& a, const net::Addr& b) {
  return a.len == b.len && memcmp(&a.ss, &b.ss, a.len) == 0;
}
}  // namespace

/* Once per turn while idlers are wanted or held: after a new snapshot, retires the idlers
   whose server changed address (or went away); closes the surplus (newest first); starts
   what is missing as the plan allows; sets the back-off timer. */
void Engine::keepIdlers() {
  if (idlersVersion_ != viewVersion_) {
    idlersVersion_ = viewVersion_;
    for (size_t i = 0; i < idlers_.size();) {
      Conn& c = *slots_[idlers_[i].slot];
      if (!(c.state & tcp::kConnected) || idlerCurrent(idlers_[i])) {
        i++;
        continue;
      }
      c.idler = tcp::kIdlerRetired;
      closeConn(c, "its server changed");  // idlers_[i] is now another idler
    }
  }
  int mine = tcp::IdlerPlan::share(snap_->idlers, count_, index_);
  while (int(idlers_.size()) > mine) {
    Conn& c = *slots_[idlers_.back().slot];
    c.idler = tcp::kIdlerRetired;
    closeConn(c, "fewer idlers wanted");
  }
  while (idlerPlan_.toStart(mine, int(idlers_.size()), nowMs_) > 0 && startIdler()) {
  }
  int64_t at = int(idlers_.size()) < mine ? idlerPlan_.wakeAtMs(nowMs_) : 0;
  if (at && at != idlerWakeMs_) timers_.add(at, loop::token::make(0, 0, tcp::kTimerIdlers));
  idlerWakeMs_ = at;
}

/* Whether established idler i still goes where its server is configured now. */
bool Engine::idlerCurrent(const Idler& i) {
  const Conn& c = *slots_[i.slot];
  const ServerConf* sc = conf(c.sel.server);
  return sc && sameAddr(sc->addr, i.to);
}

/* Takes a connection slot (conn_max, pending_max and the descriptor budget as for a client)
   and starts one idler on the pool's choice. Returns false when no slot is free now. */
bool Engine::startIdler() {
  if (!pool_.mayAccept(snap_->connMax, snap_->pendingMax) || !pool_.reserveConn(snap_->connMax)) return false;
  Conn* c = allocConn();
  if (!c) {
    pool_.releaseConn();
    return false;
  }
  c->idler = tcp::kIdler;
  c->number = pool_.takeNumber(index_, c->id);
  c->lastActiveMs = nowMs_;
  c->action = "connecting an idler";
  idlers_.push_back(Idler{c->id, net::Addr{}});
  pool_.idlers.fetch_add(1, std::memory_order_relaxed);
  idlerPlan_.started(nowMs_);
  pool_.beginIdle(c->sel, *view_, nowMs_);
  connectNext(*c);  // connecting, connected, or closed (idlerGone)
  return true;
}

void Engine::idlerConnected(Conn& c) {
  c.state |= tcp::kClosedDown;  // Pen marks an idler's client side closed
  c.action = "idling";
  for (Idler& i : idlers_)
    if (i.slot == c.id && conf(c.sel.server)) i.to = conf(c.sel.server)->addr;
  idlerPlan_.established(nowMs_);
  setInterest(c, 1, loop::kRead);
}

void Engine::onIdlerEvent(Conn& c) { drainIdler(c); }

/* Reads and drops what the backend sent to idler c. Returns false when c was closed (the
   backend closed it, or an error). */
bool Engine::drainIdler(Conn& c) {
  for (;;) {
    ssize_t n = recv(c.ufd, env_.scratch, env_.scratchSize, 0);
    if (n > 0) {
      if (balance::ServerState* st = state(c.sel.server)) st->addBytes(0, uint64_t(n));
      continue;
    }
    if (n < 0 && net::again(errno)) return true;
    closeConn(c, n == 0 ? "the backend closed an idle connection" : strerror(errno));
    return false;
  }
}

/* closeConn() of idler c: forgets it; a close pen did not decide (failed connect, closed by
   the backend) counts for the back-off. */
void Engine::idlerGone(Conn& c) {
  auto it = std::find_if(idlers_.begin(), idlers_.end(), [&](const Idler& i) { return i.slot == c.id; });
  if (it != idlers_.end()) {
    *it = idlers_.back();
    idlers_.pop_back();
  }
  pool_.idlers.fetch_sub(1, std::memory_order_relaxed);
  if (c.idler != tcp::kIdlerRetired) idlerPlan_.failed(nowMs_);
  c.idler = 0;
}

/* c (a client) holds c.sel.server, the pool's choice for it: when one of this worker's
   idlers is established on that server, at the address the server has now, and its backend
   has not closed it, c takes its socket and is connected; the idler's slot, number and hold
   on the server are given back (a new idler starts at the end of the turn). Returns false
   when there is none. */
bool Engine::adoptIdler(Conn& c) {
  for (size_t i = 0; i < idlers_.size();) {
    Conn& idle = *slots_[idlers_[i].slot];
    if (idle.idler != tcp::kIdler || idle.sel.server != c.sel.server || !(idle.state & tcp::kConnected) ||
        !idlerCurrent(idlers_[i])) {
      i++;
      continue;
    }
    char b;
    ssize_t n = recv(idle.ufd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    bool alive = n < 0 ? net::again(errno) : n == 0 ? false : drainIdler(idle);
    if (n <= 0 && !alive) closeConn(idle, n == 0 ? "the backend closed an idle connection" : strerror(errno));
    if (!alive) continue;  // closed: idlers_[i] is now another idler
    int fd = idle.ufd;
    if (idle.addQueued & 2) unqueueAdd(idle, 1);
    else if (idle.umask) poller_->remove(fd);
    idle.umask = 0;
    idle.muted &= uint8_t(~2u);
    idle.ufd = -1;  // the descriptor moves to c: still counted once in pool_.fds
    idle.idler = tcp::kIdlerRetired;
    closeConn(idle, "handed over to a client");
    c.ufd = fd;
    connected(c, true);
    return true;
  }
  return false;
}

}  // namespace pen
