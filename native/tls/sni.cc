// Certificates per server name (`ssl_sni_path DIR`, spec/ssl.md "SNI", quirk 53). Pen built a
// context from DIR/NAME.crt the first time a client sent NAME, using NAME verbatim in the
// path (path traversal), cached failures forever and never reloaded. pen instead reads the
// directory on the JS thread whenever the contexts are (re)built -- at start-up, on HUP, on
// `ssl_sni_path`, and whenever a file in DIR changed before any other command -- so no
// handshake ever waits for the disk:
//  - DIR/NAME.crt (certificate chain) with DIR/NAME.key (else the key is read from the .crt),
//    optional DIR/NAME.ca (CA file for client certificates, else -G/-A) and DIR/NAME.ocsp
//    (DER OCSP response to staple);
//  - NAME must be a host name: letters, digits, '-', '_', dot-separated labels of 1..63, at
//    most 253 characters; it is matched without regard to case (file names are lower-cased);
//  - at most kMaxSniNames names; files that fail to load are skipped with a log line and the
//    name gets the default certificate.
// The servername callback (worker thread) only looks the lower-cased name up.
#include <dirent.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "tls/tls.h"

namespace pen::tls {

namespace {

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool endsWith(const std::string& s, const char* suffix) {
  size_t n = strlen(suffix);
  return s.size() > n && s.compare(s.size() - n, n, suffix) == 0;
}

int onServerName(SSL* ssl, int*, void* arg) {
  const Server* server = static_cast<const Server*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;
  const Cert* cert = server->forName(name);
  if (!cert) return SSL_TLSEXT_ERR_NOACK;  // the default certificate answers
  SSL_set_SSL_CTX(ssl, cert->ctx);
  return SSL_TLSEXT_ERR_OK;
}

/* The client hello callback: runs before OpenSSL looks for a session to resume, so the name's
   context (and with it its session-id context and ticket keys) is in place when it does. The
   servername callback above still answers the extension. */
int onClientHello(SSL* ssl, int*, void* arg) {
  const Server* server = static_cast<const Server*>(arg);
  const unsigned char* p = nullptr;
  size_t len = 0;
  if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len)) return SSL_CLIENT_HELLO_SUCCESS;
  // ServerNameList: u16 length, then entries of u8 type, u16 length, name.
  if (len < 2 || (size_t(p[0]) << 8 | p[1]) != len - 2) return SSL_CLIENT_HELLO_SUCCESS;
  for (size_t i = 2; i + 3 <= len;) {
    size_t n = size_t(p[i + 1]) << 8 | p[i + 2];
    if (i + 3 + n > len) break;
    if (p[i] == TLSEXT_NAMETYPE_host_name) {
      std::string name(reinterpret_cast<const char*>(p + i + 3), n);
      if (name.find('\0') != std::string::npos) break;
      const Cert* cert = server->forName(name.c_str());
      if (cert) SSL_set_SSL_CTX(ssl, cert->ctx);
      break;
    }
    i += 3 + n;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace

bool normaliseName(const char* name, size_t len, std::string& out) {
  out.clear();
  if (len == 0 || len > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) return false;  // leading dot, "..", or an empty label
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (++label > 63) return false;
    } else {
      return false;
    }
    out += c;
  }
  return label > 0;  // no trailing dot
}

const Cert* Server::forName(const char* name) const {
  if (sni_.empty()) return nullptr;
  std::string key;
  if (!normaliseName(name, strlen(name), key)) return nullptr;
  auto it = sni_.find(key);
  return it == sni_.end() ? nullptr : it->second.get();
}

void installSni(SSL_CTX* ctx, const Server* server) {
  SSL_CTX_set_client_hello_cb(ctx, onClientHello, const_cast<Server*>(server));
  SSL_CTX_set_tlsext_servername_callback(ctx, onServerName);
  SSL_CTX_set_tlsext_servername_arg(ctx, const_cast<Server*>(server));
}

/* The .crt files of dir (file names), sorted; throws when dir cannot be read. */
static std::vector<std::string> crtFiles(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) throw std::runtime_error("ssl_sni_path '" + dir + "': " + strerror(errno));
  std::vector<std::string> out;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (endsWith(f, ".crt")) out.push_back(f);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string sniDirFingerprint(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return dir + ":-;";
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (endsWith(f, ".crt") || endsWith(f, ".key") || endsWith(f, ".ca") || endsWith(f, ".ocsp")) files.push_back(f);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  std::string fp = fileStamp(dir);
  for (const auto& f : files) fp += fileStamp(dir + "/" + f);
  return fp;
}

std::string loadSniDir(const TlsConf& conf, Server& server, std::vector<std::string>& warnings) {
  const std::string& dir = conf.sniPath;
  for (const std::string& file : crtFiles(dir)) {
    std::string base = file.substr(0, file.size() - 4);
    std::string name;
    if (!normaliseName(base.data(), base.size(), name)) {
      warnings.push_back("ssl_sni_path: skipping '" + file + "': '" + base + "' is not a host name");
      continue;
    }
    if (server.sni_.count(name)) {
      warnings.push_back("ssl_sni_path: skipping '" + file + "': another file already serves '" + name + "'");
      continue;
    }
    if (server.sni_.size() >= kMaxSniNames) {
      warnings.push_back("ssl_sni_path: more than " + std::to_string(kMaxSniNames) + " names in '" + dir +
                         "'; the rest get the default certificate");
      break;
    }
    std::string path = dir + "/" + base;
    std::string key = exists(path + ".key") ? path + ".key" : "";
    std::string ca = exists(path + ".ca") ? path + ".ca" : conf.caFile;
    std::string caDir = exists(path + ".ca") ? "" : conf.caDir;
    auto cert = std::make_unique<Cert>();
    try {
      cert->ctx = buildContext(conf, path + ".crt", key, ca, caDir, name);
      if (exists(path + ".ocsp")) cert->ocsp = readOcsp(path + ".ocsp");
    } catch (const std::exception& e) {
      warnings.push_back("ssl_sni_path: skipping '" + name + "': " + e.what());
      continue;
    }
    SSL_CTX_set_ex_data(cert->ctx, certIndex(), cert.get());
    sessionIdContext(name, cert->sid);
    server.sni_.emplace(name, std::move(cert));
  }
  return sniDirFingerprint(dir);
}

}  // namespace pen::tls
