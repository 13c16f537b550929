#include "log/capture.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <strings.h>

#include <cstring>
#include <ctime>

namespace pen::log {

void capture(Line& out, const char* data, size_t n) {
  size_t len = n < kLineMax ? n : kLineMax;
  const void* cr = memchr(data, '\r', len);
  if (cr) len = size_t(static_cast<const char*>(cr) - data);
  const void* lf = memchr(data, '\n', len);
  if (lf) len = size_t(static_cast<const char*>(lf) - data);
  memcpy(out.bytes, data, len);
  out.len = uint32_t(len);
  out.cut = len == kLineMax && n > kLineMax && data[len] != '\r' && data[len] != '\n';
  out.taken = true;
}

bool looksLikeRequest(const Line& line) {
  const char* b = line.bytes;
  uint32_t n = line.len, i = 0;
  while (i < n && i <= 20 && ((b[i] >= 'A' && b[i] <= 'Z') || b[i] == '-' || b[i] == '_')) i++;
  if (i < 3 || i > 20 || i + 1 >= n || b[i] != ' ') return false;
  const char* target = b + i + 1;
  size_t left = n - i - 1;
  auto startsWith = [&](const char* p) { size_t k = strlen(p); return left >= k && strncasecmp(target, p, k) == 0; };
  bool connect = i == 7 && memcmp(b, "CONNECT", 7) == 0;
  if (!(connect || target[0] == '/' || target[0] == '*' || startsWith("http://") || startsWith("https://"))) return false;
  if (line.cut) return true;
  for (size_t k = 0; k + 6 <= left; k++)
    if (memcmp(target + k, " HTTP/", 6) == 0) return true;
  return false;
}

namespace {
/* Appends a length byte and the bytes (cut at 255). */
void field(std::string& out, const char* p, size_t n) {
  if (n > 255) n = 255;
  out.push_back(static_cast<char>(n));
  out.append(p, n);
}

void address(std::string& out, const net::Addr& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a.family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr, buf, sizeof buf);
  } else if (a.family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr, buf, sizeof buf);
  } else {
    std::string path = a.host();
    field(out, path.data(), path.size());
    return;
  }
  field(out, buf, strlen(buf));
}
}  // namespace

events::Record accessRecord(const net::Addr& client, const net::Addr& server, const Line& line) {
  events::Record r;
  r.kind = events::Record::kAccess;
  std::string& out = r.text;
  out.reserve(8 + 3 + 2 * INET6_ADDRSTRLEN + line.len);
  double t = double(::time(nullptr));
  uint64_t bits;
  memcpy(&bits, &t, 8);
  for (int i = 0; i < 8; i++) out.push_back(static_cast<char>(bits >> (8 * i)));
  address(out, client);
  address(out, server);
  field(out, line.bytes, line.len);
  return r;
}

namespace {
void writeAll(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(2, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;  // stderr gone or non-blocking and full: the dump is lost, the relay goes on
    }
    p += w;
    n -= size_t(w);
  }
}
}  // namespace

void dump(const char* data, size_t n, bool ascii) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = std::to_string(n) + ": ";
  out.reserve(out.size() + (ascii ? n : 3 * n) + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (ascii) {
      out.push_back(std::isprint(c) || std::isspace(c) ? char(c) : '.');
    } else {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      out.push_back(' ');
    }
  }
  out.push_back('\n');
  writeAll(out.data(), out.size());
}

}  // namespace pen::log
