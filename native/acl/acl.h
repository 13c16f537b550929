// The compiled ACL matcher used on accept (client_acl), at connect time (server N acl A) and
// by the control plane's rules mirrored in lib/config/acl.ts. Lists come precompiled from TS:
// IPv4 entries are IPv4-mapped 16-byte address/mask pairs, so one comparison serves both
// families. Semantics (spec/selection.md §8, quirks 31-32): an empty list permits everyone;
// unix-socket clients always pass; entries of the client's family are tried in order and the
// first match decides; no match -> the opposite of the list's last entry.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "net/addr.h"

namespace pen::acl {

struct Entry {
  bool permit = false;
  int family = 0;  // 4, 6, or 0 for a country entry (never matches without a country database)
  std::array<uint8_t, 16> addr{}, mask{};
  std::string country;
};

using List = std::vector<Entry>;
constexpr int kLists = 10;

/* True when the client identified by key may pass list. Thread-agnostic, no allocation. */
bool permits(const List& list, const net::AddrKey& key);

}  // namespace pen::acl
