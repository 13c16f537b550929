// The errno values the data plane treats alike. Thread-agnostic.
#pragma once
#include <cerrno>

namespace pen::net {

/* A non-blocking call that would block (or was interrupted): try again at the next event. */
inline bool again(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

/* Out of descriptors or kernel memory for a new socket: the client waits or is refused, the
   server is not to blame. */
inline bool outOfDescriptors(int e) { return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM; }

/* A connect that failed for a shortage on this host (no free local port or address, a full
   unix-socket backlog, no buffer): the server stays in use (it is not blacklisted). */
inline bool localShortage(int e) { return e == EADDRNOTAVAIL || e == EAGAIN || outOfDescriptors(e); }

}  // namespace pen::net
