#include "net/addr.h"

#include <arpa/inet.h>

#include <cstddef>

namespace pen::net {

bool Addr::set(int familyCode, const uint8_t* bytes, size_t nbytes, const std::string& path, int port) {
  ss = sockaddr_storage{};
  switch (familyCode) {
    case kInet: {
      if (nbytes != 4) return false;
      auto* s = reinterpret_cast<sockaddr_in*>(&ss);
      s->sin_family = AF_INET;
      s->sin_port = htons(uint16_t(port));
      memcpy(&s->sin_addr, bytes, 4);
      len = sizeof(sockaddr_in);
      return true;
    }
    case kInet6: {
      if (nbytes != 16) return false;
      auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
      s->sin6_family = AF_INET6;
      s->sin6_port = htons(uint16_t(port));
      memcpy(&s->sin6_addr, bytes, 16);
      len = sizeof(sockaddr_in6);
      return true;
    }
    case kUnix: {
      auto* s = reinterpret_cast<sockaddr_un*>(&ss);
      if (path.empty() || path.size() >= sizeof(s->sun_path)) return false;
      s->sun_family = AF_UNIX;
      memcpy(s->sun_path, path.data(), path.size());
      len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size() + 1);
      return true;
    }
    case kUnset:
      len = 0;
      return true;
    default:
      return false;
  }
}

int Addr::port() const {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

std::string Addr::host() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_UNIX && len > offsetof(sockaddr_un, sun_path)) {
    const auto* s = reinterpret_cast<const sockaddr_un*>(&ss);
    return std::string(s->sun_path, strnlen(s->sun_path, len - offsetof(sockaddr_un, sun_path)));
  }
  return buf;
}

bool Addr::disabled() const {
  if (ss.ss_family == AF_INET) return reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr.s_addr == 0;
  return ss.ss_family == AF_UNSPEC;
}

AddrKey keyOf(const Addr& a) {
  AddrKey k;
  if (a.family() == AF_INET) {
    k.b[0] = 4;
    k.b[11] = k.b[12] = 0xff;  // ::ffff:a.b.c.d at bytes 1..16
    memcpy(&k.b[13], &reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr, 4);
  } else if (a.family() == AF_INET6) {
    const auto* s = reinterpret_cast<const sockaddr_in6*>(&a.ss);
    memcpy(&k.b[1], &s->sin6_addr, 16);
    k.b[0] = IN6_IS_ADDR_V4MAPPED(&s->sin6_addr) ? 4 : 6;
  } else {
    k.b[0] = 1;
  }
  return k;
}

bool keyIsV4(const AddrKey& k) { return k.b[0] == 4; }

}  // namespace pen::net
