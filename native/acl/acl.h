// The compiled ACL matcher used on accept (client_acl) and at connect time (server N acl A);
// the control plane's control_acl mirrors it in lib/config/acl.ts. Lists come precompiled
// from TS: IPv4 entries are IPv4-mapped 16-byte address/mask pairs, so one comparison serves
// both families. Semantics (spec/selection.md §8, quirks 31-32): an empty list permits
// everyone; unix-socket clients always pass; entries of the client's family, and country
// entries, are tried in order and the first match decides; no match -> the opposite of the
// list's last entry. A country entry matches when the client's country (geo/db.h) is its code;
// a client whose country is unknown matches no country entry.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "geo/db.h"
#include "net/addr.h"

namespace pen::acl {

struct Entry {
  bool permit = false;
  int family = 0;  // 4, 6, or 0 for a country entry
  std::array<uint8_t, 16> addr{}, mask{};
  char country[3] = {0, 0, 0};  // ISO code of a country entry
};

using List = std::vector<Entry>;
constexpr int kLists = 10;

/* True when some list has a country entry (configure refuses those without a database). */
bool hasCountryEntries(const std::vector<List>& lists);

/* The client's country as the lists see it: looked up the first time a country entry is
   reached, then remembered. Keep one per connection (or flow) so that client_acl and every
   server's acl share one lookup. Worker thread of its connection only. */
class ClientCountry {
 public:
  /* The code of key in db (null db: unknown); looked up once. */
  const geo::Code& get(const geo::Db* db, const net::AddrKey& key) {
    if (!looked_) {
      if (db) code_ = db->country(key);
      looked_ = true;
    }
    return code_;
  }

 private:
  bool looked_ = false;
  geo::Code code_;
};

/* True when the client identified by key may pass list. db: the snapshot's country database
   (null: none; the snapshot then has no country entries). No allocation. */
bool permits(const List& list, const net::AddrKey& key, const geo::Db* db, ClientCountry& country);

}  // namespace pen::acl
