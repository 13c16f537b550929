// TLS contexts from PEM files (spec/ssl.md "Context details", with its modern equivalents):
// versions as a min/max pair (TLS 1.2 and 1.3 by default), TLS <= 1.2 cipher list and TLS 1.3
// ciphersuites, client-certificate verification against -G/-A with the CA names taken from
// those files (Pen sent the names from its own certificate file), the server session cache
// plus tickets, renegotiation off. JS thread (Cache::get); the worker only uses newSession.
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <cstring>
#include <stdexcept>

#include "tls/tls.h"

namespace pen::tls {

namespace {

struct CtxGuard {
  SSL_CTX* ctx;
  ~CtxGuard() {
    if (ctx) SSL_CTX_free(ctx);
  }
  SSL_CTX* release() {
    SSL_CTX* c = ctx;
    ctx = nullptr;
    return c;
  }
};

[[noreturn]] void fail(const std::string& what) {
  std::string why = takeErrors();
  throw std::runtime_error(why.empty() ? what : what + ": " + why);
}

const char* versionName(int v) {
  switch (v) {
    case TLS1_2_VERSION: return "TLS 1.2";
    case TLS1_3_VERSION: return "TLS 1.3";
    default: return "an unknown TLS version";
  }
}

}  // namespace

std::string takeErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(e);
    char buf[256];
    if (!reason) {
      ERR_error_string_n(e, buf, sizeof buf);
      reason = buf;
    }
    if (out.find(reason) != std::string::npos) continue;
    if (!out.empty()) out += "; ";
    out += reason;
  }
  return out;
}

int certIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

Cert::~Cert() {
  if (ctx) SSL_CTX_free(ctx);
}

std::string fileStamp(const std::string& path) {
  struct stat st;
  if (path.empty()) return ";";
  if (stat(path.c_str(), &st) != 0) return path + ":-;";
  return path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino) + ";";
}

SSL_CTX* buildContext(const TlsConf& conf, const std::string& cert, const std::string& key,
                      const std::string& caFile, const std::string& caDir, const std::string& sniName) {
  ERR_clear_error();
  CtxGuard g{SSL_CTX_new(TLS_server_method())};
  SSL_CTX* ctx = g.ctx;
  if (!ctx) fail("cannot create a TLS context");
  if (conf.minVersion > conf.maxVersion)
    throw std::runtime_error(std::string("no TLS version left to speak (minimum ") + versionName(conf.minVersion) +
                             ", maximum " + versionName(conf.maxVersion) + ")");
  if (!SSL_CTX_set_min_proto_version(ctx, conf.minVersion) || !SSL_CTX_set_max_proto_version(ctx, conf.maxVersion))
    fail("cannot set the TLS versions");
  uint64_t opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION;
  if (conf.serverPreference) opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  if (conf.bugWorkarounds) opts |= SSL_OP_ALL;
  SSL_CTX_set_options(ctx, opts);
  // Partial writes with a moving buffer: the relay retries a TLS write from its own pending
  // buffer. Buffers are released while idle, so an idle TLS connection costs little memory.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(ctx, 1);  // one read(2) per burst of records, not two per record
  SSL_CTX_set_dh_auto(ctx, 1);
  if (!conf.ciphers.empty() && !SSL_CTX_set_cipher_list(ctx, conf.ciphers.c_str()))
    fail("ssl_ciphers '" + conf.ciphers + "'");
  if (!conf.ciphersuites.empty() && !SSL_CTX_set_ciphersuites(ctx, conf.ciphersuites.c_str()))
    fail("ssl_ciphersuites '" + conf.ciphersuites + "'");

  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) fail("cannot load the certificate '" + cert + "'");
  const std::string& keyFile = key.empty() ? cert : key;
  if (SSL_CTX_use_PrivateKey_file(ctx, keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string why = takeErrors();
    if (why.find("mismatch") != std::string::npos)  // OpenSSL checks the pair while loading
      throw std::runtime_error("the private key '" + keyFile + "' does not match the certificate '" + cert + "'");
    if (key.empty())  // no -K: the key was looked for in the -E file
      throw std::runtime_error("no private key in the certificate file '" + cert +
                               "': give the key file with -K KEYFILE" + (why.empty() ? "" : " (" + why + ")"));
    throw std::runtime_error("cannot load the private key '" + keyFile + "'" + (why.empty() ? "" : ": " + why));
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    fail("the private key '" + keyFile + "' does not match the certificate '" + cert + "'");

  // Client certificates: CA files are loaded whenever given (so a bad path is reported at
  // once), but a certificate is only asked for with -R.
  if (!caFile.empty() || !caDir.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, caFile.empty() ? nullptr : caFile.c_str(),
                                      caDir.empty() ? nullptr : caDir.c_str()) != 1)
      fail("cannot load the CA " + (caFile.empty() ? "directory '" + caDir + "'" : "file '" + caFile + "'"));
  } else if (conf.verifyClient && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    fail("cannot load the system's CA certificates");
  }
  if (conf.verifyClient) {
    STACK_OF(X509_NAME)* names = caFile.empty() ? sk_X509_NAME_new_null() : SSL_load_client_CA_file(caFile.c_str());
    if (!names) fail("cannot read CA names from '" + caFile + "'");
    if (!caDir.empty()) SSL_add_dir_cert_subjects_to_stack(names, caDir.c_str());
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }

  // One session-id context per name: OpenSSL moves a connection to the SNI context's value
  // when it switches contexts (sni.cc does that before sessions are looked up), and resumes a
  // TLS 1.2 session only under the value it was established with. Tickets (TLS 1.2 and 1.3,
  // where OpenSSL does not compare the value) are sealed with keys salted by it (tickets.cc).
  unsigned char sid[32];
  sessionIdContext(sniName, sid);
  if (SSL_CTX_set_session_id_context(ctx, sid, sizeof sid) != 1) fail("cannot set the session id context");
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  installOcsp(ctx);
  ERR_clear_error();
  return g.release();
}

void sessionIdContext(const std::string& sniName, unsigned char out[32]) {
  static_assert(SSL_MAX_SID_CTX_LENGTH >= 32, "a SHA-256 fits a session-id context");
  std::string label = "pen sni " + sniName;
  SHA256(reinterpret_cast<const unsigned char*>(label.data()), label.size(), out);
}

SSL* Server::newSession(int fd) const {
  SSL* ssl = SSL_new(default_->ctx);
  if (!ssl) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

Cache::Cache() : tickets_(TicketKeys::create()) {}

std::shared_ptr<const Server> Cache::get(const TlsConf& conf, std::vector<std::string>& warnings) {
  std::string fp = fileStamp(conf.cert) + fileStamp(conf.key) + fileStamp(conf.caFile) + fileStamp(conf.caDir) +
                   fileStamp(conf.ocspResponse);
  if (!conf.sniPath.empty()) fp += sniDirFingerprint(conf.sniPath);
  if (server_ && conf == last_ && fp == fingerprint_) return server_;

  if (!tickets_) {
    tickets_ = TicketKeys::create();  // the RNG failed before: try again
    if (!tickets_) warnings.push_back("TLS: RAND_bytes failed: session tickets are off (sessions resume by id)");
  }
  auto s = std::make_shared<Server>();
  s->tickets_ = tickets_;
  s->default_ = std::make_unique<Cert>();
  s->default_->ctx = buildContext(conf, conf.cert, conf.key, conf.caFile, conf.caDir, "");
  SSL_CTX* ctx = s->default_->ctx;
  SSL_CTX_set_ex_data(ctx, certIndex(), s->default_.get());
  sessionIdContext("", s->default_->sid);
  // Tickets are sealed and opened by the context a connection started on (the default one,
  // also after an SNI switch); every context gets the keys all the same. The same keys in
  // every rebuild let clients resume across a reload.
  TicketKeys::install(ctx, tickets_.get());
  if (!conf.ocspResponse.empty()) s->default_->ocsp = readOcsp(conf.ocspResponse);
  if (!conf.sniPath.empty()) {
    loadSniDir(conf, *s, warnings);
    for (auto& [name, cert] : s->sni_) TicketKeys::install(cert->ctx, tickets_.get());
    installSni(ctx, s.get());
  }
  last_ = conf;
  fingerprint_ = fp;
  server_ = s;
  return server_;
}

}  // namespace pen::tls
