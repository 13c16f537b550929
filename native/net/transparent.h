// Transparent proxying (`transparent`, spec/dsr-tarpit-transparent.md §3): a backend socket is
// bound to its client's address before it connects, so that the server sees the client, not
// pen. Linux: IP_TRANSPARENT / IPV6_TRANSPARENT (needs CAP_NET_RAW or CAP_NET_ADMIN in the
// calling thread; CAP_NET_RAW suffices since Linux 3.2);
// FreeBSD: IP_BINDANY / IPV6_BINDANY (needs root), compiled where CMake finds them
// (PEN_HAVE_IP_BINDANY). The replies only reach pen when the network routes them there (the
// operator's policy routing: README, pen(1) TRANSPARENT PROXYING). Thread-agnostic.
#pragma once
#include <cstdint>
#include <string>

#include "net/addr.h"

namespace pen::net {

/* What became of one transparent bind. */
enum class Transparency : uint8_t {
  kBound = 0,      // bound to the client's address (port chosen by the system)
  kFamilies,       // client and server are not both IPv4 or both IPv6: not attempted
  kUnsupported,    // this system has no option for it
  kOptionFailed,   // the option was refused (err; EPERM: no privilege)
  kBindFailed,     // the bind was refused (err)
};

/* In/out of one backend socket's transparent bind (net::ConnectOptions, openUdpUpstream). */
struct TransparentBind {
  const Addr* client = nullptr;                // in: the client whose address to take
  Transparency result = Transparency::kBound;  // out
  int err = 0;                                 // out: errno for kOptionFailed / kBindFailed
};

/* Binds fd, a new unbound socket of family serverFamily, to client's address with port 0
   (chosen at connect where IP_BIND_ADDRESS_NO_PORT exists), after setting the platform's
   option. An IPv4-mapped IPv6 client (a dual-stack listener) counts as IPv4. Returns the
   outcome; on anything but kBound fd stays unbound, so that a connect goes out from pen's own
   address, and err is the errno (0 when no call failed). */
Transparency bindTransparent(int fd, const Addr& client, int serverFamily, int& err);

/* The cause of a failed bind for a log line: "no transparency for incompatible families
   (...)", "IP_TRANSPARENT: Operation not permitted (...)", ... */
std::string describeTransparency(Transparency t, int err, int serverFamily);

}  // namespace pen::net
