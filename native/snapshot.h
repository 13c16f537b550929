// The immutable configuration the data plane runs on (pen's "-t.h": plain structs only,
// no N-API, no syscalls). Built by decode.cc from what lib/engine/to-snapshot.ts sends and
// swapped in atomically by the worker at its next loop turn.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "net/addr.h"

namespace pen {

/* Must equal ABI_VERSION in lib/engine/native.ts. */
constexpr int kAbiVersion = 2;

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
  bool tcpNodelay = false;
  Fastclose fastclose = Fastclose::kOff;
  bool keepalive = false;
  int debug = 0;  // log records above this level are not even built
  std::vector<acl::List> acls = std::vector<acl::List>(acl::kLists);
  int clientAcl = 0;  // the list deciding admission; denied clients go to the abuse server
};

struct ListenSpec {
  net::Addr addr;
  int backlog = 500;
  bool nodelay = false;
};

}  // namespace pen
