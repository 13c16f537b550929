/* The cost of one null system call on this machine, for the bench report's header: how much a
 * system call costs decides how much batching them saves (page-table isolation, a hypervisor's
 * entry path). bench/run.ts compiles it with `cc -O2` into the run's temp dir.
 *
 *   syscall-cost      prints {"ns":N}: the fastest of 5 timings of 200,000 getppid() system
 *                     calls, in nanoseconds per call.
 * Exit status 0. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  double best = 1e18;
  for (int r = 0; r < 5; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 200000; i++) syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 200000.0;
    if (ns < best) best = ns;
  }
  printf("{\"ns\":%.1f}\n", best);
  return 0;
}
