// The immutable configuration the data plane runs on (pen's "-t.h": plain structs only,
// no N-API, no syscalls; what is opened from it -- TLS contexts, the GeoIP database -- is held
// beside it, in balance::View). Built by decode.cc from what lib/engine/to-snapshot.ts sends and
// swapped in atomically by the worker at its next loop turn.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "net/addr.h"

namespace pen {

/* Must equal ABI_VERSION in lib/engine/native.ts. */
constexpr int kAbiVersion = 9;

struct ServerConf {
  net::Addr addr;        // family AF_UNSPEC for a never-configured placeholder
  int maxc = 0;          // soft limit, 0 = unlimited
  int hard = 0;          // hard limit for sticky clients, only when > maxc
  int weight = 0;
  int prio = 0;
  int acl = 0;
  bool configured() const { return addr.family() != 0; }
};

enum class Fastclose : int { kOff = 0, kUp = 1, kDown = 2, kBoth = 3 };

/* TLS termination (-E and friends, spec/ssl.md). Paths are absolute; "" = not given. */
struct TlsConf {
  std::string cert, key, caFile, caDir;
  bool verifyClient = false;      // -R
  bool bugWorkarounds = false;    // -Z
  int minVersion = 0x0303, maxVersion = 0x0304;  // TLS1_2_VERSION, TLS1_3_VERSION
  std::string ciphers, ciphersuites;  // "" = OpenSSL's defaults
  bool serverPreference = false;  // ssl_option cipher_server_preference
  std::string sniPath, ocspResponse;
  bool operator==(const TlsConf& o) const {
    return cert == o.cert && key == o.key && caFile == o.caFile && caDir == o.caDir &&
           verifyClient == o.verifyClient && bugWorkarounds == o.bugWorkarounds &&
           minVersion == o.minVersion && maxVersion == o.maxVersion && ciphers == o.ciphers &&
           ciphersuites == o.ciphersuites && serverPreference == o.serverPreference &&
           sniPath == o.sniPath && ocspResponse == o.ocspResponse;
  }
};

struct Snapshot {
  std::vector<ServerConf> servers;
  bool hasEmergency = false, hasAbuse = false;
  ServerConf emergency, abuse;
  std::string algorithm = "roundrobin";
  bool track = true;
  bool hashPort = false;
  bool stubborn = false;
  int trackingSec = 0;
  int blacklistSec = 30;
  int clientsMax = 2048;
  int connMax = 500;
  int multiAccept = 100;
  int timeoutMs = 3000;
  int pendingMax = 100;
  int idleTimeoutSec = 0;
  bool dummy = false;  // `dummy`: answer every client as tcp/dummy.h says, no backend
  int idlers = 0;      // `idlers N`: idle backend connections kept open (tcp/idlers.h)
  int udpResponses = 0;   // UDP: replies that end a flow (0 = never)
  int udpTimeoutSec = 0;  // UDP: life of a flow without a reply yet (0 = the idle rule)
  bool tcpNodelay = false;
  Fastclose fastclose = Fastclose::kOff;
  bool keepalive = false;
  int debug = 0;  // log records above this level are not even built; >= 3 dumps every chunk
  bool ascii = false;      // level-3 dumps as text instead of hex (-a, `ascii`)
  bool accessLog = false;  // build access-log records (-l, `log`); off = no cost at all
  std::vector<acl::List> acls = std::vector<acl::List>(acl::kLists);
  int clientAcl = 0;
  // The MaxMind DB country entries are matched against (absolute path; "" = none).
  std::string geoipDb;
  bool hasSource = false;  // `source IP`: backend sockets bind to it
  net::Addr source;  // the list deciding admission; denied clients go to the abuse server
  bool transparent = false;  // `transparent`: backend sockets bind to the client's address (net/transparent.h); not with source
  bool http = false;     // -H / `http`: X-Forwarded-For and X-Forwarded-Proto (tcp/xff.h)
  bool hasTls = false;   // -E given: clients speak TLS
  std::string dsrIf;     // `dsr_if IF`: Direct Server Return on IF (native/dsr/); "" = off
  int tarpitAcl = -1;    // `tarpit_acl N`: addresses the DSR plane impersonates; -1 = off
  TlsConf tls;
};

struct ListenSpec {
  net::Addr addr;
  int backlog = 500;
  bool nodelay = false;
};

}  // namespace pen
