// The client table (Pen's client tracking): one entry per client IP address (the port is not
// part of the identity), least-recently-seen eviction when full, and expiry after the
// tracking time -- an expired entry counts as an unknown client (Pen keeps sending it to its
// old server, spec/quirks.md 18). Thread: the worker (JS reads under the engine lock).
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "balance/servers.h"
#include "net/addr.h"

namespace pen::balance {

struct ClientEntry {
  net::AddrKey key;
  net::Addr addr;          // for display (port ignored)
  int server = kNone;      // remembered server
  uint64_t connects = 0;
  uint64_t sx = 0;         // bytes sent to the client
  uint64_t rx = 0;         // bytes received from the client
  int64_t lastSeenMs = 0;  // monotonic
  int prev = -1, next = -1;  // LRU list, most recent at head
};

class ClientTable {
 public:
  explicit ClientTable(size_t capacity) : cap_(capacity ? capacity : 1) {}

  /* Finds or creates the entry for addr, marks it seen now, counts a connect, and forgets its
     server when it was last seen more than trackingSec ago (0 = never forget).
     Returns the entry index, valid until the next touch() or setCapacity() (eviction moves
     entries); hold the key, not the index, across loop turns. */
  int touch(const net::Addr& addr, int64_t nowMs, int trackingSec);
  /* Index of the entry for key, or -1. */
  int find(const net::AddrKey& key) const;
  ClientEntry& at(int i) { return entries_[size_t(i)]; }
  const std::vector<ClientEntry>& entries() const { return entries_; }
  /* Grows or shrinks the table; shrinking evicts the least recently seen entries. */
  void setCapacity(size_t capacity);
  size_t size() const { return entries_.size(); }

 private:
  void unlink(int i);
  void pushFront(int i);
  void removeTail();

  size_t cap_;
  std::vector<ClientEntry> entries_;
  std::unordered_map<net::AddrKey, int, net::AddrKeyHash> index_;
  int head_ = -1, tail_ = -1;
};

}  // namespace pen::balance
