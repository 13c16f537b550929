// UDP sockets of the data plane (-U): the listener and the upstream socket of a flow.
// Thread-agnostic; errors come back as values, never as exceptions.
#pragma once
#include <string>

#include "net/addr.h"
#include "net/transparent.h"

namespace pen::net {

/* True for 0.0.0.0 and :: (a listener bound there must learn each datagram's destination). */
bool isWildcard(const Addr& addr);

/* Opens a non-blocking, close-on-exec UDP socket bound to addr (IPv4 or IPv6; an IPv6
   wildcard also takes IPv4 clients). Asks for large kernel buffers so that bursts queue
   instead of being dropped, and, on a wildcard address, for each datagram's destination
   address (IP_PKTINFO / IPV6_RECVPKTINFO) so replies can leave from it.
   reusePort: SO_REUSEPORT, so that several workers share the port (net/listen.cc
   openListeners() probes the port first). Returns the fd, or -1 with err = "what failed:
   strerror". Unix paths are refused. */
int openUdpListener(const Addr& addr, bool reusePort, std::string& err);

/* Opens a non-blocking, close-on-exec UDP socket connected to addr, so that the kernel
   delivers only that server's datagrams to it and reports ICMP errors (port unreachable
   -> ECONNREFUSED) on it. source (may be null): bind to it (port 0) first when of addr's
   family; as for TCP, a source that cannot be bound is not fatal. Else transparent (may be
   null): bind to its client's address (net/transparent.h; its result says how that went).
   Returns the fd, or -1 with err = errno. */
int openUdpUpstream(const Addr& addr, const Addr* source, TransparentBind* transparent, int& err);

}  // namespace pen::net
