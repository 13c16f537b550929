/* Frame load for bench/dsr.ts: UDP datagrams to one address as fast as one socket per source
 * address can send them (sendmmsg, batches of 64). Nothing is received.
 *
 *   dsr-flood DST PORT SIZE MS SRC...
 *       For MS milliseconds, sends SIZE-byte datagrams to DST:PORT from each SRC address in
 *       turn (one socket per SRC; source port chosen by the OS), then prints
 *       {"sent":N,"ms":M}.
 * Exit status 0 on success, 1 on a system error (message on stderr). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64
#define MAX_SRC 16

static double nowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 6 || argc - 5 > MAX_SRC) {
    fprintf(stderr, "usage: dsr-flood DST PORT SIZE MS SRC...\n");
    return 1;
  }
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  int size = atoi(argv[3]);
  double ms = atof(argv[4]);
  if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || size < 1 || size > 1400) {
    fprintf(stderr, "dsr-flood: bad address or size\n");
    return 1;
  }
  int nsrc = argc - 5, fds[MAX_SRC];
  for (int i = 0; i < nsrc; i++) {
    struct sockaddr_in src = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, argv[5 + i], &src.sin_addr) != 1) {
      fprintf(stderr, "dsr-flood: bad source %s\n", argv[5 + i]);
      return 1;
    }
    fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
    if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&src, sizeof src) < 0 ||
        connect(fds[i], (struct sockaddr *)&dst, sizeof dst) < 0) {
      perror("dsr-flood: socket");
      return 1;
    }
  }
  static char payload[1400];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0;
  double start = nowMs(), end = start + ms;
  for (int turn = 0; nowMs() < end; turn++) {
    int n = sendmmsg(fds[turn % nsrc], msgs, BATCH, 0);
    if (n > 0) sent += (unsigned long long)n;
    else if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED && errno != EINTR) {
      perror("dsr-flood: sendmmsg");
      return 1;
    }
  }
  printf("{\"sent\":%llu,\"ms\":%.0f}\n", sent, nowMs() - start);
  return 0;
}
