// Addresses for the native unit tests.
#pragma once
#include <arpa/inet.h>

#include "net/addr.h"

namespace pen::testing {

/* The IPv4 literal text with port, as a net::Addr. */
inline net::Addr ip4(const char* text, int port) {
  uint8_t b[4];
  inet_pton(AF_INET, text, b);
  net::Addr a;
  a.set(net::kInet, b, 4, "", port);
  return a;
}

}  // namespace pen::testing
