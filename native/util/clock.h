// Monotonic and wall clocks in milliseconds.
#pragma once
#include <cstdint>
#include <ctime>

namespace pen::util {

inline int64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

inline double wallMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) * 1000.0 + double(ts.tv_nsec / 1000000);
}

}  // namespace pen::util
