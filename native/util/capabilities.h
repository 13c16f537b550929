// Linux capabilities of the calling thread, by raw capget/capset/prctl (no libcap). Linux
// credentials are per thread: glibc's setuid() changes the uid of every thread of the process,
// and each thread then loses its capabilities unless it asked to keep them (PR_SET_KEEPCAPS),
// and even then its effective set, which limitTo() raises again. lib/run/privileges.ts uses
// these through Engine.keepCapabilities (addon.cc) on the data-plane worker threads, the
// threads that make the privileged calls (net/transparent.h). Elsewhere every call fails with
// ENOSYS. Thread: each function acts on the calling thread only.
#pragma once
#include <cstdint>

namespace pen::util {

/* Whether this build can keep capabilities across a uid change (Linux). */
bool capabilitiesSupported();
/* The bit of a capability name ("CAP_NET_RAW", "CAP_NET_ADMIN"), 0 when pen does not keep it. */
uint64_t capabilityBit(const char* name);
/* PR_SET_KEEPCAPS on (or off) for the calling thread. Returns 0 or an errno. */
int keepAcrossUidChange(bool on);
/* The calling thread's effective and permitted sets become exactly mask, its inheritable and
   ambient sets empty. Only lowers what the thread holds (mask must be within its permitted
   set: EPERM otherwise). Returns 0 or an errno. */
int limitTo(uint64_t mask);
/* The calling thread's effective and permitted sets. Returns 0 or an errno. */
int current(uint64_t& effective, uint64_t& permitted);

}  // namespace pen::util
