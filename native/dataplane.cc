// The data plane's JS-facing side: workers, listeners, snapshots with their files (see dataplane.h).
#include "dataplane.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "dsr/plane.h"
#include "dsr/pool_chooser.h"
#include "loop/poller.h"
#include "net/socket.h"
#include "tcp/engine.h"
#include "udp/balancer.h"
#include "worker.h"

namespace pen {

DataPlane::DataPlane(const PlaneOptions& opts, events::Queue& events)
    : events_(events), pool_(events), udp_(opts.udp), poller_(opts.poller) {
  // Descriptors bound the connections: the soft limit goes up to the hard one (as far as the
  // process may), and the budget of the workers is what is left after the reserve.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = rl.rlim_max == RLIM_INFINITY ? rlim_t(1) << 20 : rl.rlim_max;
    if (rl.rlim_cur < want) {
      rlimit raised = rl;
      raised.rlim_cur = want;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    fdLimit_ = int64_t(rl.rlim_cur == RLIM_INFINITY ? rlim_t(1) << 20 : rl.rlim_cur);
  }
  startWorkers(opts.workers);
}

/* The reserve: the control plane (control connections, log and config files, syslog, Node's
   own descriptors) and each worker's poller, listener, wake-up pipe and batch ring. */
void DataPlane::setFdBudget(int workers) {
  if (fdLimit_ <= 0) return;
  int64_t reserve = std::min(kFdReserve, fdLimit_ / 4) + 5 * int64_t(workers);
  pool_.fdBudget.store(fdLimit_ > reserve + 2 ? fdLimit_ - reserve : 2);
}

void DataPlane::startWorkers(int n) {
  n = std::clamp(n, 1, kMaxWorkers);
  setFdBudget(n);
  pool_.clearWakers();
  for (int i = 0; i < n; i++) {
    auto poller = loop::makePoller(poller_);
    if (!poller) {
      stop();
      throw PlaneError("PEN_ERR_POLLER", "event backend '" + poller_ + "' is not available on this system");
    }
    if (udp_) workers_.push_back(std::make_unique<udp::Balancer>(pool_, i, n, std::move(poller), events_));
    // The default event backend batches socket I/O where it can; a named one (-O epoll) is
    // plain, one system call per read and per write.
    else workers_.push_back(std::make_unique<Engine>(pool_, i, n, std::move(poller), events_, poller_ == "default"));
    Worker* w = workers_.back().get();
    pool_.onSlotFreed([w] { w->wake(); });
  }
  for (auto& w : workers_) {
    std::string err;
    if (!w->start(err)) {
      stop();
      throw PlaneError("PEN_ERR_ENGINE", "cannot start the data plane: " + err);
    }
  }
}

void DataPlane::setWorkers(int n, const std::string& poller) {
  if (n == workers() && (poller.empty() || poller == poller_)) return;
  if (listened_) throw PlaneError("PEN_ERR_WORKERS", "the number of workers is set at start-up; restart pen to change it");
  if (!poller.empty() && !loop::makePoller(poller))
    throw PlaneError("PEN_ERR_POLLER", "event backend '" + poller + "' is not available on this system");
  stop();
  workers_.clear();
  if (!poller.empty()) poller_ = poller;
  startWorkers(n);
}

DataPlane::~DataPlane() { stop(); }

void DataPlane::stop() {
  dsr_.reset();
  for (auto& w : workers_) w->stop();
}

void DataPlane::warn(std::string text) {
  events::Record r;
  r.kind = events::Record::kLog;
  r.level = 0;
  r.text = std::move(text);
  events_.push(std::move(r));
}

void DataPlane::configure(Snapshot s) {
  std::shared_ptr<const geo::Db> db;
  openGeo(s, db);
  std::shared_ptr<const tls::Server> tlsServer;
  if (s.hasTls) {  // TLS contexts are built here, on the JS thread, and published with the snapshot
    std::vector<std::string> warnings;
    try {
      tlsServer = tls_.get(s.tls, warnings);
    } catch (const std::exception& e) {
      throw PlaneError("PEN_ERR_TLS", e.what());
    }
    for (auto& w : warnings) warn(std::move(w));
  }
  pool_.configure(std::make_shared<const Snapshot>(std::move(s)), db, std::move(tlsServer));
  geo_.commit(std::move(db));
  if (dsr_) configureDsr(*pool_.view()->snap);
  for (auto& w : workers_) w->wake();
}

/* The country database of s. Throws PEN_ERR_GEOIP, and nothing changes, when a newly named
   file cannot be opened, when this build has no GeoIP support, or when a list has country
   entries but there is no database: an entry that could never match is refused, not kept.
   The file in use that went bad on disk (a half-written update) does not block settings
   changes: the copy opened before stays in use and one warning per bad version is logged. */
void DataPlane::openGeo(Snapshot& s, std::shared_ptr<const geo::Db>& db) {
  bool country = acl::hasCountryEntries(s.acls);
  if (!geo::kSupported && (country || !s.geoipDb.empty())) throw PlaneError("PEN_ERR_GEOIP", geo::kUnsupported);
  if (!s.geoipDb.empty()) {
    const std::shared_ptr<const geo::Db>& cur = geo_.current();
    try {
      db = geo_.get(s.geoipDb);
    } catch (const std::exception& e) {
      if (!cur || cur->path() != s.geoipDb) throw PlaneError("PEN_ERR_GEOIP", e.what());
      db = cur;
      std::string fp = geo::fingerprintOf(s.geoipDb);
      if (fp != geoBadFingerprint_) {
        geoBadFingerprint_ = fp;
        warn(std::string(e.what()) + "; still using the copy opened before");
      }
    }
  }
  if (country && !db)
    throw PlaneError("PEN_ERR_GEOIP", "country ACL entries need a GeoIP database: set one with geoip_db FILE");
}

std::string DataPlane::countryOf(const net::Addr& addr) const {
  const auto& db = geo_.current();
  geo::Code c = db ? db->country(net::keyOf(addr)) : geo::Code{};
  return c.known() ? std::string(c.c, 2) : std::string();
}

static bool sameAddress(const net::Addr& a, const net::Addr& b) {
  return a.len == b.len && a.len > 0 && memcmp(&a.ss, &b.ss, a.len) == 0;
}

int DataPlane::listen(const ListenSpec& spec) {
  if (auto v = pool_.view(); v && v->snap && !v->snap->dsrIf.empty()) return listenDsr(spec, *v->snap);
  std::string where = spec.addr.family() == AF_UNIX ? spec.addr.host() : spec.addr.host() + ":" + std::to_string(spec.addr.port());
  std::string err;
  bool rebind = sameAddress(spec.addr, listening_);
  std::vector<int> fds = net::openListeners(spec.addr, workers(), udp_, rebind, spec.backlog, spec.nodelay, err);
  if (fds.empty()) throw PlaneError("PEN_ERR_BIND", "cannot listen on " + where + ": " + err, where, err);
  net::Addr bound;
  bound.len = sizeof bound.ss;
  getsockname(fds[0], reinterpret_cast<sockaddr*>(&bound.ss), &bound.len);
  listening_ = spec.addr.family() == AF_UNIX ? spec.addr : bound;
  listened_ = true;
  // A unix socket has one listener: the first worker takes it, the others close theirs.
  for (size_t i = 0; i < workers_.size(); i++) workers_[i]->setListener(i < fds.size() ? fds[i] : -1);
  return spec.addr.family() == AF_UNIX ? 0 : bound.port();
}

/* The DSR plane's settings from snap: the VIP and port of the last listen, the servers'
   IPv4 addresses (for ARP), the tarpit list as a predicate over a copy of its ACL. */
static dsr::Config dsrConfigOf(const Snapshot& snap, uint32_t vip, int port, bool udp) {
  dsr::Config c;
  c.vip = vip;
  c.port = uint16_t(port);
  c.udp = udp;
  for (const ServerConf& s : snap.servers) {
    if (s.addr.family() != AF_INET || s.addr.disabled()) continue;
    uint32_t ip;
    memcpy(&ip, &reinterpret_cast<const sockaddr_in*>(&s.addr.ss)->sin_addr, 4);
    c.backends.push_back(ip);
  }
  if (snap.tarpitAcl >= 0 && !snap.acls[size_t(snap.tarpitAcl)].empty()) {
    c.tarpit = [list = snap.acls[size_t(snap.tarpitAcl)]](uint32_t ip) {
      net::Addr a;
      a.set(net::kInet, reinterpret_cast<const uint8_t*>(&ip), 4, "", 0);
      acl::ClientCountry country;
      return acl::permits(list, net::keyOf(a), nullptr, country);
    };
  }
  return c;
}

void DataPlane::configureDsr(const Snapshot& snap) {
  dsr_->configure(dsrConfigOf(snap, dsrVip_, dsrPort_, udp_));
}

int DataPlane::listenDsr(const ListenSpec& spec, const Snapshot& snap) {
  std::string where = spec.addr.host() + ":" + std::to_string(spec.addr.port());
  if (spec.addr.family() != AF_INET)
    throw PlaneError("PEN_ERR_BIND", "cannot serve " + where + " by DSR: the VIP must be an IPv4 address", where,
                     "the DSR VIP must be an IPv4 address");
  memcpy(&dsrVip_, &reinterpret_cast<const sockaddr_in*>(&spec.addr.ss)->sin_addr, 4);
  dsrPort_ = spec.addr.port();
  listened_ = true;
  if (dsr_) {  // a new VIP or port for the running plane
    configureDsr(snap);
    return dsrPort_;
  }
  auto chooser = std::make_unique<dsr::PoolChooser>(pool_);
  auto plane = std::make_unique<dsr::Plane>(*chooser);
  std::string err;
  if (!plane->start(snap.dsrIf, dsrConfigOf(snap, dsrVip_, dsrPort_, udp_), err))
    throw PlaneError("PEN_ERR_BIND", "cannot serve " + where + " by DSR: " + err, where, err);
  dsrChooser_ = std::move(chooser);
  dsr_ = std::move(plane);
  return dsrPort_;
}

void DataPlane::onEachWorker(const std::function<void()>& fn) {
  for (auto& w : workers_) w->call(fn);
}

bool DataPlane::closeConnection(uint32_t id) {
  int worker;
  uint32_t slot;
  if (!pool_.ownerOf(id, worker, slot) || size_t(worker) >= workers_.size()) return false;
  Worker& w = *workers_[size_t(worker)];
  bool closed = false;
  w.call([&] { closed = w.closeSlotIfOpen(slot, id); });
  return closed;
}

Stats DataPlane::stats() {
  Stats s;
  pool_.fillStats(s);
  for (auto& w : workers_) {
    s.acceptedByWorker.push_back(w->accepted());
    if (w->ioBatched()) s.ioBatched++;
    else if (s.ioPlainWhy.empty()) s.ioPlainWhy = w->ioPlainWhy();
  }
  s.fdLimit = fdLimit_;
  s.fdBudget = pool_.fdBudget.load();
  s.fdsInUse = pool_.fds.load();
  if (dsrChooser_) {
    size_t n = pool_.view()->snap->servers.size();
    for (size_t i = 0; i < n; i++) {
      s.dsrFrames.push_back(dsrChooser_->frames(int(i)));
      s.dsrBytes.push_back(dsrChooser_->bytes(int(i)));
    }
  }
  return s;
}

std::vector<ConnInfo> DataPlane::connections() {
  std::vector<ConnInfo> out;
  for (auto& w : workers_) w->call([&] { w->listConnections(out); });
  std::sort(out.begin(), out.end(), [](const ConnInfo& a, const ConnInfo& b) { return a.id < b.id; });
  return out;
}

std::vector<ClientInfo> DataPlane::clients(int sinceSec) {
  std::vector<ClientInfo> out = pool_.clients(sinceSec);
  for (auto& w : workers_) w->call([&] { w->addLiveClientBytes(out); });
  return out;
}

}  // namespace pen
