#include "acl/acl.h"

namespace pen::acl {

bool hasCountryEntries(const std::vector<List>& lists) {
  for (const List& l : lists)
    for (const Entry& e : l)
      if (e.family == 0) return true;
  return false;
}

bool permits(const List& list, const net::AddrKey& key, const geo::Db* db, ClientCountry& country) {
  if (list.empty() || key.b[0] == 1) return true;
  int family = net::keyIsV4(key) ? 4 : 6;
  const uint8_t* a = net::keyBytes(key);
  for (const Entry& e : list) {
    if (e.family == 0) {
      const geo::Code& c = country.get(db, key);
      if (c.known() && c.c[0] == e.country[0] && c.c[1] == e.country[1]) return e.permit;
      continue;
    }
    if (e.family != family) continue;
    bool match = true;
    for (int i = 0; i < 16 && match; i++) match = (a[i] & e.mask[size_t(i)]) == e.addr[size_t(i)];
    if (match) return e.permit;
  }
  return !list.back().permit;
}

}  // namespace pen::acl
