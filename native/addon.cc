// The N-API surface of the data plane: the Engine wrapper and the module functions, exactly
// the members declared in lib/engine/native.ts (NativeEngine, NativeAddon). JS <-> C++
// conversion only; every decision lives behind engine.h. JS thread only.
#include <napi.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "balance/algorithm.h"
#include "decode.h"
#include "engine.h"
#include "geo/db.h"
#include "log/datagram.h"
#include "net/socket.h"
#include "net/udp.h"
#include "tls/tls.h"
#include "udp/balancer.h"

namespace pen {
namespace {

Napi::Error errnoError(Napi::Env env, const std::string& what, const char* code) {
  Napi::Error e = Napi::Error::New(env, what);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

class JsEngine : public Napi::ObjectWrap<JsEngine> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {
                           InstanceMethod<&JsEngine::JsConfigure>("configure"),
                           InstanceMethod<&JsEngine::JsListen>("listen"),
                           InstanceMethod<&JsEngine::JsBlacklist>("blacklist"),
                           InstanceMethod<&JsEngine::JsCloseConnection>("closeConnection"),
                           InstanceMethod<&JsEngine::JsStats>("stats"),
                           InstanceMethod<&JsEngine::JsConnections>("connections"),
                           InstanceMethod<&JsEngine::JsClients>("clients"),
                           InstanceMethod<&JsEngine::JsOnEvents>("onEvents"),
                           InstanceMethod<&JsEngine::JsClose>("close"),
                           InstanceMethod<&JsEngine::JsCountryOf>("countryOf"),
                       });
  }

  /* new Engine({ poller: "default" | "epoll" | "kqueue" | "poll", udp?: boolean })
     udp: run the UDP data plane (-U) instead of the TCP one; listen() then opens UDP sockets. */
  explicit JsEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsEngine>(info) {
    Napi::Env env = info.Env();
    std::string name = "default";
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Value p = info[0].As<Napi::Object>().Get("poller");
      if (p.IsString()) name = p.As<Napi::String>().Utf8Value();
      Napi::Value u = info[0].As<Napi::Object>().Get("udp");
      if (!u.IsUndefined() && !u.IsBoolean()) throw Napi::TypeError::New(env, "Engine option udp must be a boolean");
      udp_ = u.IsBoolean() && u.As<Napi::Boolean>().Value();
    }
    auto poller = loop::makePoller(name);
    if (!poller) throw errnoError(env, "event backend '" + name + "' is not available on this system", "PEN_ERR_POLLER");
    if (udp_) engine_ = std::make_unique<udp::Balancer>(std::move(poller), events_);
    else engine_ = std::make_unique<Engine>(std::move(poller), events_);
    std::string err;
    if (!engine_->start(err)) throw errnoError(env, "cannot start the data plane: " + err, "PEN_ERR_ENGINE");
    cleanup_ = env.AddCleanupHook(&JsEngine::Cleanup, this);
  }

  /* A collected engine must take its cleanup hook with it: the hook would otherwise run on
     freed memory when the environment exits (after the hook ran, it is gone already). */
  ~JsEngine() override {
    shutdown();
    if (!cleanupRan_ && !cleanup_.IsEmpty()) cleanup_.Remove(Env());
  }

 private:
  static void Cleanup(JsEngine* self) {
    self->cleanupRan_ = true;
    self->shutdown();
  }

  void shutdown() {
    if (engine_) {
      engine_->stop();
      engine_.reset();
    }
    if (tsfn_) {
      tsfn_.Release();
      tsfn_ = Napi::ThreadSafeFunction();
    }
  }

  DataPlane& live(Napi::Env env) {
    if (!engine_) throw errnoError(env, "the engine is closed", "PEN_ERR_CLOSED");
    return *engine_;
  }

  Napi::Value JsConfigure(const Napi::CallbackInfo& info) {
    Snapshot s = decode::snapshot(info[0]);
    openGeo(info.Env(), s);
    if (s.hasTls) {  // TLS contexts are built here, on the JS thread, and swapped with the snapshot
      std::vector<std::string> warnings;
      try {
        s.tlsServer = tls_.get(s.tls, warnings);
      } catch (const std::exception& e) {
        throw errnoError(info.Env(), e.what(), "PEN_ERR_TLS");
      }
      for (auto& w : warnings) {
        events::Record r;
        r.kind = events::Record::kLog;
        r.level = 0;
        r.text = std::move(w);
        events_.push(std::move(r));
      }
    }
    std::shared_ptr<const geo::Db> db = s.geo;
    live(info.Env()).configure(std::make_shared<const Snapshot>(std::move(s)));
    geo_.commit(std::move(db));
    return info.Env().Undefined();
  }

  /* The country database of s (JS thread; swapped with the snapshot like the TLS contexts).
     Throws PEN_ERR_GEOIP, and nothing changes, when a newly named file cannot be opened,
     when this build has no libmaxminddb, or when a list has country entries but there is no
     database: an entry that could never match is refused, not kept. The file in use that
     went bad on disk (a half-written update) does not block settings changes: the copy
     opened before stays in use and one warning per bad version of the file is logged. */
  void openGeo(Napi::Env env, Snapshot& s) {
    bool country = acl::hasCountryEntries(s.acls);
    if (!geo::kSupported && (country || !s.geoipDb.empty())) throw errnoError(env, geo::kUnsupported, "PEN_ERR_GEOIP");
    if (!s.geoipDb.empty()) {
      const std::shared_ptr<const geo::Db>& cur = geo_.current();
      try {
        s.geo = geo_.get(s.geoipDb);
      } catch (const std::exception& e) {
        if (!cur || cur->path() != s.geoipDb) throw errnoError(env, e.what(), "PEN_ERR_GEOIP");
        s.geo = cur;
        std::string fp = geo::fingerprintOf(s.geoipDb);
        if (fp != geoBadFingerprint_) {
          geoBadFingerprint_ = fp;
          events::Record r;
          r.kind = events::Record::kLog;
          r.level = 0;
          r.text = std::string(e.what()) + "; still using the copy opened before";
          events_.push(std::move(r));
        }
      }
    }
    if (country && !s.geo)
      throw errnoError(env, "country ACL entries need a GeoIP database: set one with geoip_db FILE", "PEN_ERR_GEOIP");
  }

  /* countryOf(ip): the ISO country code of an IPv4/IPv6 literal in the database of the last
     configure, or null (unknown, or no database). Throws TypeError for anything else. */
  Napi::Value JsCountryOf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "countryOf: expected an IP address string");
    std::string ip = info[0].As<Napi::String>().Utf8Value();
    std::string bare = ip.substr(0, ip.find('%'));  // an IPv6 zone id
    uint8_t bytes[16];
    net::Addr addr;
    if (inet_pton(AF_INET, bare.c_str(), bytes) == 1) addr.set(net::kInet, bytes, 4, "", 0);
    else if (inet_pton(AF_INET6, bare.c_str(), bytes) == 1) addr.set(net::kInet6, bytes, 16, "", 0);
    else throw Napi::TypeError::New(env, "countryOf: '" + ip + "' is not an IPv4 or IPv6 address");
    const auto& db = geo_.current();
    geo::Code c = db ? db->country(net::keyOf(addr)) : geo::Code{};
    return c.known() ? Napi::Value(Napi::String::New(env, c.c, 2)) : env.Null();
  }

  Napi::Value JsListen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    DataPlane& e = live(env);
    ListenSpec spec = decode::listenSpec(info[0]);
    std::string err;
    // The engine's mode decides the socket type (the spec is the same for both).
    int fd = udp_ ? net::openUdpListener(spec.addr, err) : net::openListener(spec.addr, spec.backlog, spec.nodelay, err);
    std::string where = spec.addr.family() == AF_UNIX ? spec.addr.host() : spec.addr.host() + ":" + std::to_string(spec.addr.port());
    if (fd < 0) throw errnoError(env, "cannot listen on " + where + ": " + err, "PEN_ERR_BIND");
    net::Addr bound;
    bound.len = sizeof bound.ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound.ss), &bound.len);
    e.setListener(fd);
    Napi::Object o = Napi::Object::New(env);
    o.Set("port", bound.port());
    return o;
  }

  Napi::Value JsBlacklist(const Napi::CallbackInfo& info) {
    live(info.Env()).blacklist(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }

  Napi::Value JsCloseConnection(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), live(info.Env()).closeConnection(info[0].As<Napi::Number>().Uint32Value()));
  }

  Napi::Value JsStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Stats s = live(env).stats();
    size_t n = s.servers.size();
    auto conn = Napi::BigUint64Array::New(env, n), sx = Napi::BigUint64Array::New(env, n),
         rx = Napi::BigUint64Array::New(env, n);
    auto until = Napi::Float64Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      conn[i] = uint64_t(s.servers[i].conn);
      sx[i] = s.servers[i].sx;
      rx[i] = s.servers[i].rx;
      until[i] = s.blacklistedUntilWallMs[i];
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("accepted", Napi::BigInt::New(env, s.accepted));
    o.Set("active", s.active);
    o.Set("pending", s.pending);
    o.Set("current", s.current);
    o.Set("refused", Napi::BigInt::New(env, s.refused));
    o.Set("conn", conn);
    o.Set("sx", sx);
    o.Set("rx", rx);
    o.Set("blacklistedUntil", until);
    return o;
  }

  Napi::Value JsConnections(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto list = live(env).connections();
    Napi::Array arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) {
      const ConnInfo& c = list[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", c.id);
      o.Set("state", c.state);
      o.Set("downfd", c.downfd);
      o.Set("upfd", c.upfd);
      o.Set("client", c.client);
      o.Set("server", c.server);
      o.Set("initial", c.initial);
      o.Set("pendingDown", double(c.pendingDown));
      o.Set("pendingUp", double(c.pendingUp));
      o.Set("clientIndex", c.clientIndex);
      arr.Set(uint32_t(i), o);
    }
    return arr;
  }

  Napi::Value JsClients(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto list = live(env).clients(info[0].As<Napi::Number>().Int32Value());
    Napi::Array arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) {
      const ClientInfo& c = list[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("address", c.address);
      o.Set("server", c.server);
      o.Set("connects", double(c.connects));
      o.Set("sx", Napi::BigInt::New(env, c.sx));
      o.Set("rx", Napi::BigInt::New(env, c.rx));
      o.Set("lastSeenMs", c.lastSeenWallMs);
      arr.Set(uint32_t(i), o);
    }
    return arr;
  }

  /* onEvents(cb): cb(batch) is called on the JS thread with every record queued since the
     last call; at most one call is in flight. Keeps the process alive until close(). */
  Napi::Value JsOnEvents(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    live(env);
    if (tsfn_) throw errnoError(env, "onEvents was already called", "PEN_ERR_EVENTS");
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "pen-events", 0, 1);
    eventsCb_ = Napi::Persistent(info[0].As<Napi::Function>());
    events_.setNotify([this] { return tsfn_.NonBlockingCall(this, &JsEngine::Deliver) == napi_ok; });
    return env.Undefined();
  }

  static void Deliver(Napi::Env env, Napi::Function cb, JsEngine* self) {
    uint64_t dropped = 0, droppedAccess = 0;
    auto records = self->events_.drain(dropped, droppedAccess);
    Napi::Array arr = Napi::Array::New(env);
    uint32_t k = 0;
    if (dropped) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", "log");
      o.Set("level", 0);
      o.Set("message", std::to_string(dropped) + " data-plane records were dropped (JavaScript fell behind)");
      arr.Set(k++, o);
    }
    if (droppedAccess) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", "accessDropped");
      o.Set("count", double(droppedAccess));
      arr.Set(k++, o);
    }
    // Access records come by the thousand: they travel packed in one Buffer per batch
    // (layout: lib/engine/events.ts); an object per record cost ~5 µs of N-API calls.
    std::string packed;
    for (const auto& r : records) {
      if (r.kind == events::Record::kAccess) {
        packed += r.text;
        continue;
      }
      Napi::Object o = Napi::Object::New(env);
      if (r.kind == events::Record::kLog) {
        o.Set("kind", "log");
        o.Set("level", r.level);
        o.Set("message", r.text);
      } else {
        o.Set("kind", "server");
        o.Set("server", r.server);
        o.Set("up", r.up);
        o.Set("reason", r.text);
      }
      arr.Set(k++, o);
    }
    if (!packed.empty()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", "access");
      o.Set("records", Napi::Buffer<char>::Copy(env, packed.data(), packed.size()));
      arr.Set(k++, o);
    }
    if (k) cb.Call({arr});
  }

  /* Stops the data plane, then hands over the records it queued last (the final lines of
     the access log) with one synchronous call of the onEvents callback. */
  Napi::Value JsClose(const Napi::CallbackInfo& info) {
    shutdown();
    if (!eventsCb_.IsEmpty()) {
      Napi::FunctionReference cb = std::move(eventsCb_);
      Deliver(info.Env(), cb.Value(), this);
    }
    return info.Env().Undefined();
  }

  events::Queue events_;
  tls::Cache tls_;  // the TLS contexts of the last configure (rebuilt when a file changes)
  geo::Cache geo_;  // the country database of the last configure (reopened when the file changes)
  std::string geoBadFingerprint_;  // the version of that file last found unreadable (warned once)
  bool udp_ = false;
  Napi::Env::CleanupHook<void (*)(JsEngine*), JsEngine> cleanup_;
  bool cleanupRan_ = false;
  std::unique_ptr<DataPlane> engine_;
  Napi::ThreadSafeFunction tsfn_;
  Napi::FunctionReference eventsCb_;  // the onEvents callback, for the final delivery in close()
};

Napi::Value JsAlgorithms(const Napi::CallbackInfo& info) {
  const auto& table = balance::algorithms();
  Napi::Array arr = Napi::Array::New(info.Env(), table.size());
  for (size_t i = 0; i < table.size(); i++) arr.Set(uint32_t(i), table[i].name);
  return arr;
}

Napi::Value JsPollers(const Napi::CallbackInfo& info) {
  auto names = loop::pollerNames();
  Napi::Array arr = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); i++) arr.Set(uint32_t(i), names[i]);
  return arr;
}

Napi::Value JsChroot(const Napi::CallbackInfo& info) {
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  if (chroot(dir.c_str()) < 0 || chdir("/") < 0)
    throw errnoError(info.Env(), "chroot " + dir + ": " + strerror(errno), "PEN_ERR_CHROOT");
  return info.Env().Undefined();
}

/* openDatagram(path) / openDatagram(ip, port): a connected, non-blocking datagram socket to a
   unix socket path or a UDP address (log/datagram.h); throws PEN_ERR_DATAGRAM. */
Napi::Value JsOpenDatagram(const Napi::CallbackInfo& info) {
  std::string where = info[0].As<Napi::String>().Utf8Value(), err;
  bool udp = info.Length() > 1 && info[1].IsNumber();
  int port = udp ? info[1].As<Napi::Number>().Int32Value() : 0;
  int fd = udp ? log::openUdp(where, port, err) : log::openDatagram(where, err);
  if (fd < 0) {
    std::string name = udp ? where + " port " + std::to_string(port) : where;
    throw errnoError(info.Env(), name + ": " + err, "PEN_ERR_DATAGRAM");
  }
  return Napi::Number::New(info.Env(), fd);
}

/* sendDatagrams(fd, buffers): {sent, errno}; each Buffer is one datagram. */
Napi::Value JsSendDatagrams(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<iovec> msgs(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    auto b = list.Get(i).As<Napi::Buffer<uint8_t>>();
    msgs[i] = iovec{b.Data(), b.Length()};
  }
  int err = 0;
  size_t sent = log::sendDatagrams(info[0].As<Napi::Number>().Int32Value(), msgs, err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("sent", double(sent));
  o.Set("errno", err);
  return o;
}

Napi::Value JsDecodeEcho(const Napi::CallbackInfo& info) {
  return decode::encode(info.Env(), decode::snapshot(info[0]));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", kAbiVersion);
  exports.Set("algorithms", Napi::Function::New<JsAlgorithms>(env, "algorithms"));
  exports.Set("pollers", Napi::Function::New<JsPollers>(env, "pollers"));
  exports.Set("Engine", JsEngine::Init(env));
  exports.Set("chroot", Napi::Function::New<JsChroot>(env, "chroot"));
  exports.Set("openDatagram", Napi::Function::New<JsOpenDatagram>(env, "openDatagram"));
  exports.Set("sendDatagrams", Napi::Function::New<JsSendDatagrams>(env, "sendDatagrams"));
  std::string maxminddb = geo::libraryVersion();
  exports.Set("maxminddb", maxminddb.empty() ? env.Null() : Napi::Value(Napi::String::New(env, maxminddb)));
  exports.Set("_decodeEcho", Napi::Function::New<JsDecodeEcho>(env, "_decodeEcho"));
  return exports;
}

}  // namespace
}  // namespace pen

static Napi::Object PenInit(Napi::Env env, Napi::Object exports) { return pen::Init(env, exports); }
NODE_API_MODULE(pen_native, PenInit)
