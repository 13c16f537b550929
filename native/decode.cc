#include "decode.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>

#include "balance/algorithm.h"

namespace pen::decode {
namespace {

[[noreturn]] void fail(Napi::Env env, const std::string& path, const std::string& what) {
  Napi::Error e = Napi::TypeError::New(env, "invalid snapshot field " + path + ": " + what);
  e.Set("code", Napi::String::New(env, "PEN_ERR_SNAPSHOT"));
  throw e;
}

Napi::Object object(const Napi::Value& v, const std::string& path) {
  if (!v.IsObject() || v.IsArray()) fail(v.Env(), path, "expected an object");
  return v.As<Napi::Object>();
}

int integer(const Napi::Object& o, const char* key, const std::string& path, long long min, long long max) {
  Napi::Value v = o.Get(key);
  std::string p = path.empty() ? key : path + "." + key;
  if (!v.IsNumber()) fail(o.Env(), p, "expected a number");
  double d = v.As<Napi::Number>().DoubleValue();
  // Range first, then wholeness, both on the double: NaN fails every comparison, and no
  // out-of-range value is ever cast (that would be undefined behaviour).
  if (!(d >= double(min) && d <= double(max)) || d != std::trunc(d))
    fail(o.Env(), p, "expected a whole number in " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                         (std::isnan(d) ? std::string("NaN") : std::isinf(d) ? std::string(d > 0 ? "Infinity" : "-Infinity") : std::to_string(d)));
  return int(d);
}

bool boolean(const Napi::Object& o, const char* key, const std::string& path) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) fail(o.Env(), path.empty() ? key : path + "." + key, "expected a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string string(const Napi::Object& o, const char* key, const std::string& path) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) fail(o.Env(), path.empty() ? key : path + "." + key, "expected a string");
  return v.As<Napi::String>().Utf8Value();
}

/* {family, addr: Buffer, path, port} -> Addr */
net::Addr endpoint(const Napi::Object& o, const std::string& path) {
  int family = integer(o, "family", path, 0, 6);
  Napi::Value a = o.Get("addr");
  if (!a.IsBuffer()) fail(o.Env(), path + ".addr", "expected a Buffer");
  auto buf = a.As<Napi::Buffer<uint8_t>>();
  std::string p = string(o, "path", path);
  int port = integer(o, "port", path, 0, 65535);
  net::Addr addr;
  if (!addr.set(family, buf.Data(), buf.Length(), p, port))
    fail(o.Env(), path, "family " + std::to_string(family) + " does not fit addr/path");
  return addr;
}

ServerConf server(const Napi::Value& v, const std::string& path) {
  Napi::Object o = object(v, path);
  ServerConf s;
  s.addr = endpoint(o, path);
  s.maxc = integer(o, "maxc", path, 0, INT32_MAX);
  s.hard = integer(o, "hard", path, 0, INT32_MAX);
  s.weight = integer(o, "weight", path, 0, INT32_MAX);
  s.prio = integer(o, "prio", path, 0, INT32_MAX);
  s.acl = integer(o, "acl", path, 0, 9);
  return s;
}

acl::Entry aclEntry(const Napi::Value& v, const std::string& path) {
  Napi::Object o = object(v, path);
  acl::Entry e;
  e.permit = boolean(o, "permit", path);
  if (o.Has("country")) {
    std::string c = string(o, "country", path);
    if (c.size() != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z')
      fail(v.Env(), path + ".country", "expected a two-letter upper-case country code");
    e.country[0] = c[0];
    e.country[1] = c[1];
    return e;
  }
  e.family = integer(o, "family", path, 4, 6);
  if (e.family != 4 && e.family != 6) fail(v.Env(), path + ".family", "expected 4 or 6");
  for (const char* key : {"addr", "mask"}) {
    Napi::Value b = o.Get(key);
    if (!b.IsBuffer() || b.As<Napi::Buffer<uint8_t>>().Length() != 16) fail(v.Env(), path + "." + key, "expected a 16-byte Buffer");
    memcpy(key[0] == 'a' ? e.addr.data() : e.mask.data(), b.As<Napi::Buffer<uint8_t>>().Data(), 16);
  }
  return e;
}

Napi::Object encodeEndpoint(Napi::Env env, const net::Addr& a) {
  Napi::Object o = Napi::Object::New(env);
  int code = net::kUnset;
  Napi::Buffer<uint8_t> bytes = Napi::Buffer<uint8_t>::New(env, 0);
  std::string path;
  if (a.family() == AF_INET) {
    code = net::kInet;
    bytes = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr), 4);
  } else if (a.family() == AF_INET6) {
    code = net::kInet6;
    bytes = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr), 16);
  } else if (a.family() == AF_UNIX) {
    code = net::kUnix;
    path = a.host();
  }
  o.Set("family", code);
  o.Set("addr", bytes);
  o.Set("path", path);
  o.Set("port", a.port());
  return o;
}

Napi::Value encodeServer(Napi::Env env, const ServerConf& s) {
  Napi::Object o = encodeEndpoint(env, s.addr);
  o.Set("maxc", s.maxc);
  o.Set("hard", s.hard);
  o.Set("weight", s.weight);
  o.Set("prio", s.prio);
  o.Set("acl", s.acl);
  return o;
}

TlsConf tlsConf(const Napi::Value& v, const std::string& path) {
  Napi::Object o = object(v, path);
  TlsConf t;
  t.cert = string(o, "cert", path);
  if (t.cert.empty()) fail(v.Env(), path + ".cert", "a certificate file is required");
  t.key = string(o, "key", path);
  t.caFile = string(o, "caFile", path);
  t.caDir = string(o, "caDir", path);
  t.verifyClient = boolean(o, "verifyClient", path);
  t.bugWorkarounds = boolean(o, "bugWorkarounds", path);
  t.minVersion = integer(o, "minVersion", path, 0x0303, 0x0304);
  t.maxVersion = integer(o, "maxVersion", path, 0x0303, 0x0304);
  t.ciphers = string(o, "ciphers", path);
  t.ciphersuites = string(o, "ciphersuites", path);
  t.serverPreference = boolean(o, "serverPreference", path);
  t.sniPath = string(o, "sniPath", path);
  t.ocspResponse = string(o, "ocspResponse", path);
  return t;
}

Napi::Object encodeTls(Napi::Env env, const TlsConf& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("cert", t.cert);
  o.Set("key", t.key);
  o.Set("caFile", t.caFile);
  o.Set("caDir", t.caDir);
  o.Set("verifyClient", t.verifyClient);
  o.Set("bugWorkarounds", t.bugWorkarounds);
  o.Set("minVersion", t.minVersion);
  o.Set("maxVersion", t.maxVersion);
  o.Set("ciphers", t.ciphers);
  o.Set("ciphersuites", t.ciphersuites);
  o.Set("serverPreference", t.serverPreference);
  o.Set("sniPath", t.sniPath);
  o.Set("ocspResponse", t.ocspResponse);
  return o;
}

}  // namespace

Snapshot snapshot(const Napi::Value& v) {
  Napi::Env env = v.Env();
  Napi::Object o = object(v, "snapshot");
  if (integer(o, "abi", "", 0, 1 << 30) != kAbiVersion)
    fail(env, "abi", "this addon speaks ABI " + std::to_string(kAbiVersion));
  Snapshot s;
  Napi::Value list = o.Get("servers");
  if (!list.IsArray()) fail(env, "servers", "expected an array");
  Napi::Array arr = list.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) s.servers.push_back(server(arr.Get(i), "servers[" + std::to_string(i) + "]"));
  for (const char* key : {"emergency", "abuse"}) {
    Napi::Value e = o.Get(key);
    if (e.IsNull()) continue;
    ServerConf sc = server(e, key);
    if (key[0] == 'e') s.emergency = sc, s.hasEmergency = true;
    else s.abuse = sc, s.hasAbuse = true;
  }
  s.algorithm = string(o, "algorithm", "");
  if (!balance::makeAlgorithm(s.algorithm)) fail(env, "algorithm", "unknown algorithm '" + s.algorithm + "'");
  s.track = boolean(o, "track", "");
  s.hashPort = boolean(o, "hashPort", "");
  s.stubborn = boolean(o, "stubborn", "");
  s.trackingSec = integer(o, "trackingSec", "", 0, INT32_MAX);
  s.blacklistSec = integer(o, "blacklistSec", "", 0, INT32_MAX);
  s.clientsMax = integer(o, "clientsMax", "", 1, INT32_MAX);
  s.connMax = integer(o, "connMax", "", 1, INT32_MAX);
  s.multiAccept = integer(o, "multiAccept", "", 1, INT32_MAX);
  s.timeoutMs = integer(o, "timeoutMs", "", 1, INT32_MAX);
  s.pendingMax = integer(o, "pendingMax", "", 1, INT32_MAX);
  s.idleTimeoutSec = integer(o, "idleTimeoutSec", "", 0, INT32_MAX);
  s.dummy = boolean(o, "dummy", "");
  s.idlers = integer(o, "idlers", "", 0, INT32_MAX);
  s.udpResponses = integer(o, "udpResponses", "", 0, INT32_MAX);
  s.udpTimeoutSec = integer(o, "udpTimeoutSec", "", 0, INT32_MAX);
  s.tcpNodelay = boolean(o, "tcpNodelay", "");
  s.fastclose = Fastclose(integer(o, "fastclose", "", 0, 3));
  s.keepalive = boolean(o, "keepalive", "");
  s.debug = integer(o, "debug", "", 0, 1000);
  s.ascii = boolean(o, "ascii", "");
  s.accessLog = boolean(o, "accessLog", "");
  Napi::Value lists = o.Get("acls");
  if (!lists.IsArray() || lists.As<Napi::Array>().Length() != uint32_t(acl::kLists))
    fail(env, "acls", "expected an array of " + std::to_string(acl::kLists) + " lists");
  for (uint32_t n = 0; n < uint32_t(acl::kLists); n++) {
    std::string lp = "acls[" + std::to_string(n) + "]";
    Napi::Value lv = lists.As<Napi::Array>().Get(n);
    if (!lv.IsArray()) fail(env, lp, "expected an array");
    Napi::Array la = lv.As<Napi::Array>();
    for (uint32_t i = 0; i < la.Length(); i++) s.acls[n].push_back(aclEntry(la.Get(i), lp + "[" + std::to_string(i) + "]"));
  }
  s.clientAcl = integer(o, "clientAcl", "", 0, acl::kLists - 1);
  s.geoipDb = string(o, "geoipDb", "");
  s.dsrIf = string(o, "dsrIf", "");
  s.tarpitAcl = integer(o, "tarpitAcl", "", -1, acl::kLists - 1);
  Napi::Value src = o.Get("source");
  if (!src.IsNull()) {
    s.source = endpoint(object(src, "source"), "source");
    s.hasSource = true;
  }
  s.transparent = boolean(o, "transparent", "");
  s.http = boolean(o, "http", "");
  Napi::Value tv = o.Get("tls");
  if (!tv.IsNull()) {
    s.tls = tlsConf(tv, "tls");
    s.hasTls = true;
  }
  return s;
}

ListenSpec listenSpec(const Napi::Value& v) {
  Napi::Object o = object(v, "listen");
  ListenSpec l;
  l.addr = endpoint(o, "listen");
  if (l.addr.family() == AF_UNSPEC) fail(v.Env(), "listen.family", "a listener needs an address");
  l.backlog = integer(o, "backlog", "listen", 1, INT32_MAX);
  l.nodelay = boolean(o, "tcpNodelay", "listen");
  return l;
}

Napi::Object encode(Napi::Env env, const Snapshot& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("abi", kAbiVersion);
  Napi::Array arr = Napi::Array::New(env, s.servers.size());
  for (size_t i = 0; i < s.servers.size(); i++) arr.Set(uint32_t(i), encodeServer(env, s.servers[i]));
  o.Set("servers", arr);
  o.Set("emergency", s.hasEmergency ? encodeServer(env, s.emergency) : env.Null());
  o.Set("abuse", s.hasAbuse ? encodeServer(env, s.abuse) : env.Null());
  o.Set("algorithm", s.algorithm);
  o.Set("track", s.track);
  o.Set("hashPort", s.hashPort);
  o.Set("stubborn", s.stubborn);
  o.Set("trackingSec", s.trackingSec);
  o.Set("blacklistSec", s.blacklistSec);
  o.Set("clientsMax", s.clientsMax);
  o.Set("connMax", s.connMax);
  o.Set("multiAccept", s.multiAccept);
  o.Set("timeoutMs", s.timeoutMs);
  o.Set("pendingMax", s.pendingMax);
  o.Set("idleTimeoutSec", s.idleTimeoutSec);
  o.Set("dummy", s.dummy);
  o.Set("idlers", s.idlers);
  o.Set("udpResponses", s.udpResponses);
  o.Set("udpTimeoutSec", s.udpTimeoutSec);
  o.Set("tcpNodelay", s.tcpNodelay);
  o.Set("fastclose", int(s.fastclose));
  o.Set("keepalive", s.keepalive);
  o.Set("debug", s.debug);
  o.Set("ascii", s.ascii);
  o.Set("accessLog", s.accessLog);
  Napi::Array lists = Napi::Array::New(env, s.acls.size());
  for (size_t n = 0; n < s.acls.size(); n++) {
    Napi::Array la = Napi::Array::New(env, s.acls[n].size());
    for (size_t i = 0; i < s.acls[n].size(); i++) {
      const acl::Entry& e = s.acls[n][i];
      Napi::Object eo = Napi::Object::New(env);
      eo.Set("permit", e.permit);
      if (e.family == 0) {
        eo.Set("country", std::string(e.country, 2));
      } else {
        eo.Set("family", e.family);
        eo.Set("addr", Napi::Buffer<uint8_t>::Copy(env, e.addr.data(), 16));
        eo.Set("mask", Napi::Buffer<uint8_t>::Copy(env, e.mask.data(), 16));
      }
      la.Set(uint32_t(i), eo);
    }
    lists.Set(uint32_t(n), la);
  }
  o.Set("acls", lists);
  o.Set("clientAcl", s.clientAcl);
  o.Set("geoipDb", s.geoipDb);
  o.Set("dsrIf", s.dsrIf);
  o.Set("tarpitAcl", s.tarpitAcl);
  o.Set("source", s.hasSource ? Napi::Value(encodeEndpoint(env, s.source)) : env.Null());
  o.Set("transparent", s.transparent);
  o.Set("http", s.http);
  o.Set("tls", s.hasTls ? encodeTls(env, s.tls) : env.Null());
  return o;
}

}  // namespace pen::decode
