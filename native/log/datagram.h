// Datagram sockets for the log outputs JS writes without Node's help: syslog's unix datagram
// socket (/dev/log; Node has no unix datagram sockets) and the UDP socket towards penlogd
// (-l HOST:PORT; one sendmmsg per batch of records instead of one Node send per record).
// JS formats every datagram; this only opens sockets and sends. Any thread; no state beyond
// the descriptors the caller keeps (and closes with close(2)).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <sys/uio.h>

namespace pen::log {

/* Opens a non-blocking, close-on-exec datagram socket connected to the unix socket path
   (connected now, so it keeps working after chroot). Returns the descriptor, or -1 with err. */
int openDatagram(const std::string& path, std::string& err);

/* Opens a non-blocking, close-on-exec UDP socket connected to the IPv4/IPv6 literal ip and
   port. Returns the descriptor, or -1 with err. */
int openUdp(const std::string& ip, int port, std::string& err);

/* Sends each of msgs as one datagram without waiting (sendmmsg where there is one). Returns
   how many were sent; when fewer than all, err is the errno that stopped it (EAGAIN: the
   socket is full; ECONNREFUSED: nobody listens). */
size_t sendDatagrams(int fd, const std::vector<iovec>& msgs, int& err);

}  // namespace pen::log
