#include "net/transparent.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace pen::net {
namespace {

#if defined(IP_TRANSPARENT) && defined(IPV6_TRANSPARENT)
constexpr int kLevel4 = IPPROTO_IP, kOption4 = IP_TRANSPARENT, kLevel6 = IPPROTO_IPV6, kOption6 = IPV6_TRANSPARENT;
constexpr const char* kName4 = "IP_TRANSPARENT";
constexpr const char* kName6 = "IPV6_TRANSPARENT";
constexpr bool kSupported = true;
#elif defined(PEN_HAVE_IP_BINDANY)  // CMakeLists.txt: check_symbol_exists (FreeBSD)
constexpr int kLevel4 = IPPROTO_IP, kOption4 = IP_BINDANY, kLevel6 = IPPROTO_IPV6, kOption6 = IPV6_BINDANY;
constexpr const char* kName4 = "IP_BINDANY";
constexpr const char* kName6 = "IPV6_BINDANY";
constexpr bool kSupported = true;
#else
constexpr int kLevel4 = 0, kOption4 = 0, kLevel6 = 0, kOption6 = 0;
constexpr const char* kName4 = "IP_TRANSPARENT";
constexpr const char* kName6 = "IPV6_TRANSPARENT";
constexpr bool kSupported = false;
#endif

/* client as an address of family (its port 0); false when it cannot be one. */
bool asFamily(const Addr& client, int family, Addr& out) {
  out = Addr{};
  if (client.family() == AF_INET && family == AF_INET) {
    out = client;
  } else if (client.family() == AF_INET6) {
    const auto& a6 = reinterpret_cast<const sockaddr_in6*>(&client.ss)->sin6_addr;
    bool mapped = IN6_IS_ADDR_V4MAPPED(&a6);
    if (family == AF_INET6 && !mapped) {
      out = client;
    } else if (family == AF_INET && mapped) {
      auto* s = reinterpret_cast<sockaddr_in*>(&out.ss);
      s->sin_family = AF_INET;
      memcpy(&s->sin_addr, &a6.s6_addr[12], 4);
      out.len = sizeof(sockaddr_in);
    } else {
      return false;
    }
  } else {
    return false;
  }
  if (out.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&out.ss)->sin_port = 0;
  } else {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&out.ss);
    s6->sin6_port = 0;
    s6->sin6_flowinfo = 0;
  }
  return true;
}

}  // namespace

Transparency bindTransparent(int fd, const Addr& client, int serverFamily, int& err) {
  err = 0;
  Addr from;
  if (!asFamily(client, serverFamily, from)) return Transparency::kFamilies;
  if (!kSupported) return Transparency::kUnsupported;
  int one = 1;
  bool v4 = serverFamily == AF_INET;
  if (setsockopt(fd, v4 ? kLevel4 : kLevel6, v4 ? kOption4 : kOption6, &one, sizeof one) < 0) {
    err = errno;
    return Transparency::kOptionFailed;
  }
#ifdef IP_BIND_ADDRESS_NO_PORT
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);  // the port is chosen at connect
#endif
  if (bind(fd, reinterpret_cast<const sockaddr*>(&from.ss), from.len) < 0) {
    err = errno;
    return Transparency::kBindFailed;
  }
  return Transparency::kBound;
}

std::string describeTransparency(Transparency t, int err, int serverFamily) {
  const char* option = serverFamily == AF_INET6 ? kName6 : kName4;
  switch (t) {
    case Transparency::kBound:
      return "bound";
    case Transparency::kFamilies:
      return "no transparency for incompatible families (the client's and the server's addresses are not both IPv4 "
             "or both IPv6)";
    case Transparency::kUnsupported:
      return "this system has no option to bind to a foreign address";
    case Transparency::kOptionFailed:
      return std::string(option) + ": " + strerror(err) +
             (err == EPERM ? " (pen's data-plane threads need CAP_NET_RAW or CAP_NET_ADMIN, or root on FreeBSD: see "
                             "TRANSPARENT PROXYING in pen(1))"
                           : "");
    case Transparency::kBindFailed:
      return std::string("bind to the client's address: ") + strerror(err);
  }
  return "?";
}

}  // namespace pen::net
