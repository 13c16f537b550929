#include "acl/acl.h"

namespace pen::acl {

bool permits(const List& list, const net::AddrKey& key) {
  if (list.empty() || key.b[0] == 1) return true;
  int family = net::keyIsV4(key) ? 4 : 6;
  const uint8_t* a = net::keyBytes(key);
  for (const Entry& e : list) {
    if (e.family != family) continue;
    bool match = true;
    for (int i = 0; i < 16 && match; i++) match = (a[i] & e.mask[size_t(i)]) == e.addr[size_t(i)];
    if (match) return e.permit;
  }
  return !list.back().permit;
}

}  // namespace pen::acl
