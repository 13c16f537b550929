// Socket helpers of the data plane: listeners, non-blocking upstream connects, options.
// All functions are thread-agnostic and return errno values instead of throwing.
#pragma once
#include <string>

#include "net/addr.h"

namespace pen::net {

/* Opens a non-blocking, close-on-exec listener bound to addr with the given backlog.
   TCP listeners get SO_REUSEADDR, SO_REUSEPORT and SO_KEEPALIVE (as Pen), and TCP_NODELAY when
   nodelay (accepted sockets inherit it on Linux). A unix path is unlinked first.
   Returns the fd, or -1 with err set to "what failed: strerror". */
int openListener(const Addr& addr, int backlog, bool nodelay, std::string& err);

struct ConnectOptions {
  bool nodelay = false;
  bool keepalive = false;
  const Addr* source = nullptr;  // bind to this address (port 0) first, when of the same family
};

/* Starts a non-blocking connect to addr. Returns the fd (>= 0) and sets inProgress when the
   connect has not completed yet; returns -1 with err = errno when it failed at once. */
int startConnect(const Addr& addr, const ConnectOptions& opt, bool& inProgress, int& err);

/* The pending socket error of fd (SO_ERROR), 0 when none. */
int socketError(int fd);

void setNodelay(int fd);

}  // namespace pen::net
