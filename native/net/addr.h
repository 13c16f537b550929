// Socket addresses: IPv4, IPv6 and unix paths, plus the 17-byte key the client table uses.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace pen::net {

/* Family codes shared with lib/engine/native.ts (FAMILY). */
enum Family : int { kUnset = 0, kUnix = 1, kInet = 4, kInet6 = 6 };

struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;

  int family() const { return ss.ss_family; }
  /* Builds from a snapshot endpoint; bytes is 4 or 16 bytes in network order. Returns false
     when the family code is unknown or the path does not fit sun_path. */
  bool set(int familyCode, const uint8_t* bytes, size_t nbytes, const std::string& path, int port);
  int port() const;
  /* "1.2.3.4", "::1", "::ffff:1.2.3.4", or the unix path (possibly empty). */
  std::string host() const;
  /* True for 0.0.0.0 (Pen's way to disable a server) and for an unset address. */
  bool disabled() const;
};

/* Client identity for tracking: family tag + 16 address bytes; IPv4 is stored IPv4-mapped so
   that a client reaching a dual-stack listener keeps one identity. The port is not part of it. */
struct AddrKey {
  std::array<uint8_t, 17> b{};
  bool operator==(const AddrKey& o) const { return b == o.b; }
};
struct AddrKeyHash {
  size_t operator()(const AddrKey& k) const {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t c : k.b) h = (h ^ c) * 1099511628211ull;
    return size_t(h);
  }
};
AddrKey keyOf(const Addr& a);
/* The 16 address bytes of a key (IPv4 mapped); all zero for unix. */
inline const uint8_t* keyBytes(const AddrKey& k) { return k.b.data() + 1; }
/* True if the key holds an IPv4 (or IPv4-mapped) address; then bytes 12..15 are the IPv4. */
bool keyIsV4(const AddrKey& k);

}  // namespace pen::net
