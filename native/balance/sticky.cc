#include "balance/sticky.h"

namespace pen::balance {

int ClientTable::find(const net::AddrKey& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? -1 : it->second;
}

int ClientTable::touch(const net::Addr& addr, int64_t nowMs, int trackingSec) {
  net::AddrKey key = net::keyOf(addr);
  int i = find(key);
  if (i >= 0) {
    ClientEntry& e = entries_[size_t(i)];
    if (trackingSec > 0 && nowMs - e.lastSeenMs > int64_t(trackingSec) * 1000) e.server = kNone;
    unlink(i);
  } else {
    if (entries_.size() >= cap_) removeTail();
    i = int(entries_.size());
    entries_.push_back(ClientEntry{});
    ClientEntry& e = entries_.back();
    e.key = key;
    e.addr = addr;
    index_[key] = i;
  }
  ClientEntry& e = entries_[size_t(i)];
  e.lastSeenMs = nowMs;
  e.connects++;
  pushFront(i);
  return i;
}

void ClientTable::setCapacity(size_t capacity) {
  cap_ = capacity ? capacity : 1;
  while (entries_.size() > cap_) removeTail();
}

void ClientTable::unlink(int i) {
  ClientEntry& e = entries_[size_t(i)];
  if (e.prev >= 0) entries_[size_t(e.prev)].next = e.next;
  else head_ = e.next;
  if (e.next >= 0) entries_[size_t(e.next)].prev = e.prev;
  else tail_ = e.prev;
  e.prev = e.next = -1;
}

void ClientTable::pushFront(int i) {
  ClientEntry& e = entries_[size_t(i)];
  e.prev = -1;
  e.next = head_;
  if (head_ >= 0) entries_[size_t(head_)].prev = i;
  head_ = i;
  if (tail_ < 0) tail_ = i;
}

/* Evicts the least recently seen entry; the last vector slot moves into its place. */
void ClientTable::removeTail() {
  int victim = tail_;
  if (victim < 0) return;
  unlink(victim);
  index_.erase(entries_[size_t(victim)].key);
  int last = int(entries_.size()) - 1;
  if (victim != last) {
    ClientEntry& moved = entries_[size_t(last)];
    entries_[size_t(victim)] = moved;
    ClientEntry& e = entries_[size_t(victim)];
    if (e.prev >= 0) entries_[size_t(e.prev)].next = victim;
    else head_ = victim;
    if (e.next >= 0) entries_[size_t(e.next)].prev = victim;
    else tail_ = victim;
    index_[e.key] = victim;
  }
  entries_.pop_back();
}

}  // namespace pen::balance
