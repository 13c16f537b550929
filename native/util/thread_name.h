// Names the calling thread for ps -L, top -H and /proc/PID/task/TID/comm.
#pragma once
#include <pthread.h>
#if defined(__FreeBSD__)
#include <pthread_np.h>
#endif

#include <string>

namespace pen::util {

/* Sets the calling thread's name to name (Linux keeps its first 15 bytes). Best effort: a
   system without thread names, or one that refuses, leaves the inherited name. */
inline void nameThisThread(const std::string& name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
#elif defined(__FreeBSD__)
  pthread_set_name_np(pthread_self(), name.c_str());
#else
  (void)name;
#endif
}

}  // namespace pen::util
