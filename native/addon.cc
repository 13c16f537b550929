// The N-API surface of the data plane: the Engine wrapper and the module functions, exactly
// the members declared in lib/engine/native.ts (NativeEngine, NativeAddon). JS <-> C++
// conversion and argument checks only; everything else lives behind dataplane.h. JS thread only.
#include <napi.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "balance/algorithm.h"
#include "dataplane.h"
#include "decode.h"
#include "geo/db.h"
#include "log/datagram.h"
#include "loop/poller.h"
#include "util/capabilities.h"

namespace pen {
namespace {

Napi::Error errnoError(Napi::Env env, const std::string& what, const char* code) {
  Napi::Error e = Napi::Error::New(env, what);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

/* Argument i of info as a number in [lo, hi] (an integer when integral); throws a TypeError
   naming the method and the argument otherwise. */
double numberArg(const Napi::CallbackInfo& info, size_t i, const char* method, const char* name, double lo, double hi,
                 bool integral = true) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(env, std::string(method) + ": " + name + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || (integral && d != double(int64_t(d))))
    throw Napi::RangeError::New(env, std::string(method) + ": " + name + " must be " + (integral ? "an integer " : "") +
                                         "from " + std::to_string(int64_t(lo)) + " to " + std::to_string(int64_t(hi)));
  return d;
}

/* Argument i of info as a string; throws a TypeError naming the method and the argument otherwise. */
std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* method, const char* name) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(method) + ": " + name + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Error planeError(Napi::Env env, const PlaneError& e) {
  Napi::Error err = errnoError(env, e.what(), e.code.c_str());
  if (!e.address.empty()) err.Set("address", Napi::String::New(env, e.address));
  if (!e.reason.empty()) err.Set("reason", Napi::String::New(env, e.reason));
  return err;
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
                           InstanceMethod<&JsEngine::JsSetWorkers>("setWorkers"),
                           InstanceMethod<&JsEngine::JsKeepCapabilities>("keepCapabilities"),
                       });
  }

  /* new Engine({ poller: "default" | "epoll" | "kqueue" | "poll", udp?: boolean, workers?: number })
     udp: run the UDP data plane (-U) instead of the TCP one; listen() then opens UDP sockets.
     workers: data-plane threads, 1 (default) to kMaxWorkers. */
  explicit JsEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsEngine>(info) {
    Napi::Env env = info.Env();
    PlaneOptions opts;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      Napi::Value p = o.Get("poller");
      if (!p.IsUndefined() && !p.IsString()) throw Napi::TypeError::New(env, "Engine option poller must be a string");
      if (p.IsString()) opts.poller = p.As<Napi::String>().Utf8Value();
      Napi::Value u = o.Get("udp");
      if (!u.IsUndefined() && !u.IsBoolean()) throw Napi::TypeError::New(env, "Engine option udp must be a boolean");
      opts.udp = u.IsBoolean() && u.As<Napi::Boolean>().Value();
      Napi::Value w = o.Get("workers");
      if (!w.IsUndefined()) {
        double n = w.IsNumber() ? w.As<Napi::Number>().DoubleValue() : 0;
        if (!(n >= 1 && n <= kMaxWorkers && n == double(int(n))))
          throw Napi::RangeError::New(env, "Engine option workers must be an integer from 1 to " + std::to_string(kMaxWorkers));
        opts.workers = int(n);
      }
    }
    try {
      engine_ = std::make_unique<DataPlane>(opts, events_);
    } catch (const PlaneError& e) {
      throw planeError(env, e);
    }
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
    DataPlane& plane = live(info.Env());
    try {
      plane.configure(decode::snapshot(info[0]));
    } catch (const PlaneError& e) {
      throw planeError(info.Env(), e);
    }
    return info.Env().Undefined();
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
    std::string c = live(env).countryOf(addr);
    return c.empty() ? env.Null() : Napi::Value(Napi::String::New(env, c));
  }

  /* listen(spec): {port}; throws an Error with code PEN_ERR_BIND and the properties address
     and reason when the socket cannot be had. */
  Napi::Value JsListen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    DataPlane& plane = live(env);
    ListenSpec spec = decode::listenSpec(info[0]);
    int port;
    try {
      port = plane.listen(spec);
    } catch (const PlaneError& e) {
      throw planeError(env, e);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("port", port);
    return o;
  }

  Napi::Value JsSetWorkers(const Napi::CallbackInfo& info) {
    int n = int(numberArg(info, 0, "setWorkers", "workers", 1, kMaxWorkers));
    std::string poller = info.Length() > 1 && !info[1].IsUndefined() ? stringArg(info, 1, "setWorkers", "poller") : "";
    try {
      live(info.Env()).setWorkers(n, poller);
    } catch (const PlaneError& e) {
      throw planeError(info.Env(), e);
    }
    return info.Env().Undefined();
  }

  /* keepCapabilities(names, switchUser): runs switchUser() (JS: setgroups, setgid, setuid
     away from root) so that the worker threads come out of it holding exactly the capabilities
     names (effective and permitted), and every other thread what the uid change leaves them
     (nothing). Returns the names the workers hold, read back. Throws PEN_ERR_CAPABILITIES
     (unknown name, not Linux, a capset that failed), or what switchUser threw (the workers'
     keep flag is cleared again then). util/capabilities.h says why it works per thread. */
  Napi::Value JsKeepCapabilities(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    DataPlane& plane = live(env);
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "keepCapabilities: expected (names: string[], switchUser: () => void)");
    Napi::Array arr = info[0].As<Napi::Array>();
    std::vector<std::string> names;
    uint64_t mask = 0;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
      uint64_t bit = util::capabilityBit(name.c_str());
      if (!bit) throw errnoError(env, "keepCapabilities: '" + name + "' is not a capability pen keeps", "PEN_ERR_CAPABILITIES");
      mask |= bit;
      names.push_back(name);
    }
    if (!util::capabilitiesSupported())
      throw errnoError(env, "keeping capabilities across a user switch needs Linux", "PEN_ERR_CAPABILITIES");
    int err = 0;
    plane.onEachWorker([&] {
      if (int e = util::keepAcrossUidChange(true)) err = e;
    });
    if (err) throw errnoError(env, std::string("PR_SET_KEEPCAPS: ") + strerror(err), "PEN_ERR_CAPABILITIES");
    try {
      info[1].As<Napi::Function>().Call({});
    } catch (...) {
      plane.onEachWorker([] { (void)util::keepAcrossUidChange(false); });
      throw;
    }
    uint64_t held = mask;
    plane.onEachWorker([&] {
      if (int e = util::limitTo(mask)) err = e;
      (void)util::keepAcrossUidChange(false);
      uint64_t eff = 0, prm = 0;
      if (int e = util::current(eff, prm)) err = e;
      held &= eff & prm;
    });
    if (err || held != mask)
      throw errnoError(env, std::string("cannot keep ") + (names.empty() ? "" : names[0]) + " on the data-plane threads: " +
                                (err ? strerror(err) : "capget shows it gone"),
                       "PEN_ERR_CAPABILITIES");
    Napi::Array out = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); i++) out.Set(uint32_t(i), names[i]);
    return out;
  }

  Napi::Value JsBlacklist(const Napi::CallbackInfo& info) {
    int server = int(numberArg(info, 0, "blacklist", "server", balance::kAbuse, balance::kMaxServers - 1));
    int seconds = int(numberArg(info, 1, "blacklist", "seconds", 0, 2147483));
    live(info.Env()).blacklist(server, seconds);
    return info.Env().Undefined();
  }

  Napi::Value JsCloseConnection(const Napi::CallbackInfo& info) {
    uint32_t id = uint32_t(numberArg(info, 0, "closeConnection", "id", 0, 4294967295.0));
    return Napi::Boolean::New(info.Env(), live(info.Env()).closeConnection(id));
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
    o.Set("dummyAnswers", Napi::BigInt::New(env, s.dummyAnswers));
    o.Set("idlers", s.idlers);
    auto frames = Napi::BigUint64Array::New(env, s.dsrFrames.size()), bytes = Napi::BigUint64Array::New(env, s.dsrBytes.size());
    for (size_t i = 0; i < s.dsrFrames.size(); i++) frames[i] = s.dsrFrames[i];
    for (size_t i = 0; i < s.dsrBytes.size(); i++) bytes[i] = s.dsrBytes[i];
    o.Set("dsrFrames", frames);
    o.Set("dsrBytes", bytes);
    o.Set("conn", conn);
    o.Set("sx", sx);
    o.Set("rx", rx);
    o.Set("blacklistedUntil", until);
    Napi::Array byWorker = Napi::Array::New(env, s.acceptedByWorker.size());
    for (size_t i = 0; i < s.acceptedByWorker.size(); i++) byWorker.Set(uint32_t(i), double(s.acceptedByWorker[i]));
    o.Set("acceptedByWorker", byWorker);
    o.Set("ioBatched", s.ioBatched);
    o.Set("ioPlainWhy", s.ioPlainWhy);
    o.Set("fdLimit", double(s.fdLimit));
    o.Set("fdBudget", double(s.fdBudget));
    o.Set("fdsInUse", double(s.fdsInUse));
    o.Set("transparentFailures", double(s.transparentFailures));
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
    int since = int(numberArg(info, 0, "clients", "sinceSeconds", 0, 2147483647));
    auto list = live(env).clients(since);
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
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "onEvents: expected a function");
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
  std::string dir = stringArg(info, 0, "chroot", "dir");
  if (chroot(dir.c_str()) < 0 || chdir("/") < 0)
    throw errnoError(info.Env(), "chroot " + dir + ": " + strerror(errno), "PEN_ERR_CHROOT");
  return info.Env().Undefined();
}

/* openDatagram(path) / openDatagram(ip, port): a connected, non-blocking datagram socket to a
   unix socket path or a UDP address (log/datagram.h); throws PEN_ERR_DATAGRAM. */
Napi::Value JsOpenDatagram(const Napi::CallbackInfo& info) {
  std::string where = stringArg(info, 0, "openDatagram", "target"), err;
  bool udp = info.Length() > 1 && !info[1].IsUndefined();
  int port = udp ? int(numberArg(info, 1, "openDatagram", "port", 1, 65535)) : 0;
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
  int fd = int(numberArg(info, 0, "sendDatagrams", "fd", 0, 2147483647));
  if (info.Length() < 2 || !info[1].IsArray()) throw Napi::TypeError::New(env, "sendDatagrams: datagrams must be an array");
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<iovec> msgs(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsBuffer()) throw Napi::TypeError::New(env, "sendDatagrams: datagrams[" + std::to_string(i) + "] must be a Buffer");
    auto b = v.As<Napi::Buffer<uint8_t>>();
    msgs[i] = iovec{b.Data(), b.Length()};
  }
  int err = 0;
  size_t sent = log::sendDatagrams(fd, msgs, err);
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
  exports.Set("maxServers", balance::kMaxServers);
  exports.Set("maxWorkers", kMaxWorkers);
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
