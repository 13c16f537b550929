/* UDP load for the bench's udp workload, in C so that the load side is not the bottleneck
 * (a Node client and echo on one CPU top out far below what a balancer can relay).
 * bench/udp.ts compiles it with `cc -O2` into the run's temp dir.
 *
 *   udp-load echo
 *       Binds 127.0.0.1 (port chosen by the OS), prints {"port":N}, and sends every datagram
 *       back to its sender, reading and writing in batches (recvmmsg / sendmmsg).
 *   udp-load client PORT SOCKETS WINDOW SIZE MS DRAIN_MS
 *       Opens SOCKETS sockets connected to 127.0.0.1:PORT (SOCKETS client ports = flows); each
 *       keeps WINDOW datagrams of SIZE bytes outstanding and sends one new datagram per reply
 *       for MS milliseconds, then waits up to DRAIN_MS for the replies still due and prints
 *       {"sent":..,"received":..,"lost":..,"ms":..} (ms: the sending phase).
 *   udp-load sink
 *       Binds 127.0.0.1 (port chosen by the OS) with a 32 MiB receive buffer (as root; else up
 *       to net.core.rmem_max), prints {"port":N}, and counts the datagrams it receives; for
 *       each line on stdin it prints {"count":N} (everything received so far, the queue
 *       drained first). Exits at the end of stdin.
 * Exit status 0 on success, 1 on a system error (message on stderr). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SOCKETS 1024
#define MAX_SIZE 65536

static void die(const char *what) {
  fprintf(stderr, "udp-load: %s: %s\n", what, strerror(errno));
  exit(1);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static void big_buffers(int fd) {
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

/* Binds fd to 127.0.0.1 on a port the OS chooses and prints {"port":N}. */
static void announce(int fd) {
  struct sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
  printf("{\"port\":%d}\n", ntohs(a.sin_port));
  fflush(stdout);
}

static int echo(void) {
  static char bufs[BATCH][MAX_SIZE];
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[BATCH];
  static struct sockaddr_in peers[BATCH];
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  big_buffers(fd);
  announce(fd);
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = MAX_SIZE;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recvmmsg");
    }
    for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
    for (int done = 0; done < n;) {
      int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        done++; /* a peer that went away: skip its reply */
        continue;
      }
      done += r;
    }
  }
  return 0;
}

/* Sends `count` datagrams of `size` bytes on connected socket fd; returns how many left. */
static int send_some(int fd, int count, char *payload, int size) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov = {payload, (size_t)size};
  int sent = 0;
  while (sent < count) {
    int k = count - sent > BATCH ? BATCH : count - sent;
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)k);
    for (int i = 0; i < k; i++) {
      msgs[i].msg_hdr.msg_iov = &iov;
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, (unsigned)k, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("sendmmsg");
    }
    sent += r;
  }
  return sent;
}

static int client(int port, int nsock, int window, int size, int ms, int drain_ms) {
  static char rbuf[BATCH][MAX_SIZE];
  static char payload[MAX_SIZE];
  struct pollfd pfd[MAX_SOCKETS];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  long long sent = 0, received = 0;
  if (nsock < 1 || nsock > MAX_SOCKETS || window < 1 || size < 0 || size > MAX_SIZE) {
    fprintf(stderr, "udp-load: bad client arguments\n");
    return 1;
  }
  memset(payload, 'a', (size_t)size);
  struct sockaddr_in to = loopback(port);
  for (int s = 0; s < nsock; s++) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    big_buffers(fd);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) die("connect");
    pfd[s].fd = fd;
    pfd[s].events = POLLIN;
  }
  long long t0 = now_ms(), stop_at = t0 + ms, send_ms = ms;
  for (int s = 0; s < nsock; s++) sent += send_some(pfd[s].fd, window, payload, size);
  int sending = 1;
  long long deadline = stop_at + drain_ms;
  for (;;) {
    long long t = now_ms();
    if (sending && t >= stop_at) {
      sending = 0;
      send_ms = t - t0;
    }
    if (!sending && (received >= sent || t >= deadline)) break;
    int wait = (int)((sending ? stop_at : deadline) - t);
    int n = poll(pfd, (nfds_t)nsock, wait > 0 ? wait : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (int s = 0; s < nsock && n > 0; s++) {
      if (!(pfd[s].revents & (POLLIN | POLLERR))) continue;
      n--;
      for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = rbuf[i];
        iov[i].iov_len = MAX_SIZE;
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int r = recvmmsg(pfd[s].fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (r <= 0) continue; /* EAGAIN, or an ICMP error before the balancer was up */
      received += r;
      if (sending) sent += send_some(pfd[s].fd, r, payload, size);
    }
  }
  printf("{\"sent\":%lld,\"received\":%lld,\"lost\":%lld,\"ms\":%lld}\n", sent, received, sent - received, send_ms);
  return 0;
}

/* Reads every datagram queued on fd without waiting; returns how many. */
static long long drain(int fd) {
  static char bufs[BATCH][2048];
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[BATCH];
  long long got = 0;
  for (int i = 0; i < BATCH; i++) { /* recvmmsg changes only msg_len and msg_flags */
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = sizeof bufs[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n > 0) {
      got += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) die("recvmmsg");
    return got;
  }
}

static int sink(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  int size = 32 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) /* root only */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  announce(fd);
  long long count = 0;
  struct pollfd p[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
  for (;;) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (p[0].revents & POLLIN) count += drain(fd);
    if (p[1].revents & (POLLIN | POLLHUP)) {
      char line[256];
      ssize_t n = read(0, line, sizeof line);
      if (n <= 0) return 0;
      for (ssize_t i = 0; i < n; i++) {
        if (line[i] != '\n') continue;
        count += drain(fd);
        printf("{\"count\":%lld}\n", count);
        fflush(stdout);
      }
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "echo") == 0) return echo();
  if (argc == 2 && strcmp(argv[1], "sink") == 0) return sink();
  if (argc == 8 && strcmp(argv[1], "client") == 0)
    return client(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]));
  fprintf(stderr, "usage: udp-load echo | udp-load sink | udp-load client PORT SOCKETS WINDOW SIZE MS DRAIN_MS\n");
  return 2;
}
