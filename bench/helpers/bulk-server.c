/* Bulk backend for the bench's download and upload workloads, in C so that the backend is not
 * what limits the transfer: a Node server allocates a fresh buffer for every read, and on the
 * load CPU, which it shares with the client, that made it the bottleneck of every upload.
 * bench/backends.ts compiles it with `cc -O2 -pthread` into the run's temp dir.
 *
 * Protocol, one request per connection:
 *   "GET <n>\n"  -> the server sends n bytes (from one reused 1 MiB buffer) and closes;
 *   "PUT <n>\n"  -> the client sends n bytes (read into one reused 1 MiB buffer), the server
 *                   replies "OK <bytes received>\n" and closes.
 * Binds 127.0.0.1 (port chosen by the OS) and prints {"port":N}. One thread per connection.
 * Exit status 1 on a set-up error (message on stderr); a bad request closes its connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (1 << 20)
#define MAX_HEAD 64

static char out_chunk[CHUNK];  /* what GET sends: read only once filled */
static char in_chunk[CHUNK];   /* where PUT reads to: shared, its contents never looked at */

static void die(const char *what) {
  fprintf(stderr, "bulk-server: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Reads the request line (up to '\n', at most MAX_HEAD bytes) one byte at a time, so that no
 * byte of a PUT's body is taken with it. Returns its length, or -1. */
static int read_head(int fd, char *head) {
  int len = 0;
  while (len < MAX_HEAD - 1) {
    ssize_t r = recv(fd, head + len, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    if (head[len] == '\n') {
      head[len] = 0;
      return len;
    }
    len++;
  }
  return -1;
}

static void serve_get(int fd, long long n) {
  while (n > 0) {
    size_t want = n < CHUNK ? (size_t)n : CHUNK;
    ssize_t s = send(fd, out_chunk, want, MSG_NOSIGNAL);
    if (s < 0 && errno == EINTR) continue;
    if (s <= 0) return;
    n -= s;
  }
}

static void serve_put(int fd, long long n) {
  long long got = 0;
  while (got < n) {
    ssize_t r = recv(fd, in_chunk, CHUNK, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += r;
  }
  char reply[64];
  int len = snprintf(reply, sizeof reply, "OK %lld\n", got);
  send(fd, reply, (size_t)len, MSG_NOSIGNAL);
}

static void *serve(void *arg) {
  int fd = (int)(long)arg;
  char head[MAX_HEAD], verb[8];
  long long n = -1;
  if (read_head(fd, head) >= 0 && sscanf(head, "%7s %lld", verb, &n) == 2 && n >= 0) {
    if (strcmp(verb, "GET") == 0) serve_get(fd, n);
    else if (strcmp(verb, "PUT") == 0) serve_put(fd, n);
  }
  shutdown(fd, SHUT_WR);
  close(fd);
  return NULL;
}

int main(void) {
  memset(out_chunk, 'x', sizeof out_chunk);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) die("socket");
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(l, 128) < 0) die("listen");
  if (getsockname(l, (struct sockaddr *)&a, &alen) < 0) die("getsockname");
  printf("{\"port\":%d}\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        usleep(10000);
        continue;
      }
      die("accept");
    }
    pthread_t t;
    if (pthread_create(&t, NULL, serve, (void *)(long)fd) != 0) close(fd);
    else pthread_detach(t);
  }
}
