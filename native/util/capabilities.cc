#include "util/capabilities.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#ifdef __linux__
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace pen::util {

#ifdef __linux__

namespace {
int capget2(__user_cap_data_struct (&d)[2]) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &h, d) == 0 ? 0 : errno;
}
}  // namespace

bool capabilitiesSupported() { return true; }

uint64_t capabilityBit(const char* name) {
  if (strcmp(name, "CAP_NET_ADMIN") == 0) return uint64_t(1) << CAP_NET_ADMIN;
  if (strcmp(name, "CAP_NET_RAW") == 0) return uint64_t(1) << CAP_NET_RAW;
  return 0;
}

int keepAcrossUidChange(bool on) { return prctl(PR_SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0) == 0 ? 0 : errno; }

int limitTo(uint64_t mask) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  for (int i = 0; i < 2; i++) {
    d[i].effective = d[i].permitted = uint32_t(mask >> (32 * i));
    d[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &h, d) != 0) return errno;
#ifdef PR_CAP_AMBIENT
  (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // emptied by the uid change already
#endif
  return 0;
}

int current(uint64_t& effective, uint64_t& permitted) {
  __user_cap_data_struct d[2] = {};
  if (int e = capget2(d)) return e;
  effective = uint64_t(d[1].effective) << 32 | d[0].effective;
  permitted = uint64_t(d[1].permitted) << 32 | d[0].permitted;
  return 0;
}

#else

bool capabilitiesSupported() { return false; }
uint64_t capabilityBit(const char*) { return 0; }
int keepAcrossUidChange(bool) { return ENOSYS; }
int limitTo(uint64_t) { return ENOSYS; }
int current(uint64_t& effective, uint64_t& permitted) {
  effective = permitted = 0;
  return ENOSYS;
}

#endif

}  // namespace pen::util
