// Socket helpers of the data plane: listeners, non-blocking upstream connects, options.
// All functions are thread-agnostic and return errno values instead of throwing.
#pragma once
#include <sys/socket.h>

#include <string>
#include <vector>

#include "net/addr.h"
#include "net/transparent.h"

namespace pen::net {

/* Flags for send() on a connected stream socket: a peer that went away is an EPIPE error,
   never a SIGPIPE. */
#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

/* Opens a non-blocking, close-on-exec listener bound to addr with the given backlog.
   TCP listeners get SO_REUSEADDR and SO_KEEPALIVE (as Pen), SO_REUSEPORT when reusePort,
   and TCP_NODELAY when nodelay (accepted sockets inherit it on Linux). A unix path is
   unlinked first. Returns the fd, or -1 with err set to "what failed: strerror". */
int openListener(const Addr& addr, int backlog, bool nodelay, bool reusePort, std::string& err);

/* The listeners of n workers on addr (TCP, or UDP when udp): n sockets sharing the port with
   SO_REUSEPORT (the kernel spreads clients over them by a hash of their address and port),
   one for a unix path. Unless rebind (pen moves its own listener to an address it holds
   already), the port is first probed by a bind without SO_REUSEPORT, so that a port another
   process holds -- another pen among them -- fails with EADDRINUSE whatever the options of
   its sockets. Returns the fds; none (err = "what failed: strerror") on failure. */
std::vector<int> openListeners(const Addr& addr, int n, bool udp, bool rebind, int backlog, bool nodelay,
                               std::string& err);

struct ConnectOptions {
  bool nodelay = false;
  bool keepalive = false;
  const Addr* source = nullptr;  // bind to this address (port 0) first, when of the same family
  TransparentBind* transparent = nullptr;  // else bind to this client's address (net/transparent.h)
};

/* Starts a non-blocking connect to addr. Returns the fd (>= 0) and sets inProgress when the
   connect has not completed yet; returns -1 with err = errno when it failed at once. */
int startConnect(const Addr& addr, const ConnectOptions& opt, bool& inProgress, int& err);

/* The pending socket error of fd (SO_ERROR), 0 when none. */
int socketError(int fd);

void setNodelay(int fd);

}  // namespace pen::net
