// TLS termination (spec/ssl.md): the server-side contexts of one configuration -- the default
// certificate, per-name certificates for SNI, their OCSP staples -- and the cache that
// rebuilds them only when the configuration or a file changed.
//
// Threads and lifetime: a Server is built on the JS thread (Cache::get, called by addon.cc's
// configure) and never changes afterwards; the worker only reads it (newSession, and the
// OpenSSL callbacks it installed, during handshakes). The snapshot holds one reference and
// every TLS connection another, so contexts outlive a swap until their last connection
// closes. OpenSSL comes from node itself (ARCHITECTURE.md "Builds"): no libssl is linked.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "snapshot.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace pen::tls {

/* Upper bounds: certificates loaded from ssl_sni_path, bytes of one OCSP response. */
constexpr size_t kMaxSniNames = 10000;
constexpr size_t kMaxOcspBytes = 65536;

/* One certificate with its context and its stapled OCSP response (DER, may be empty). */
struct Cert {
  SSL_CTX* ctx = nullptr;
  std::string ocsp;
  ~Cert();
};

class Server {
 public:
  /* Worker thread: a new server-side SSL object for socket fd in accept state, or nullptr
     (out of memory). The caller frees it with SSL_free. */
  SSL* newSession(int fd) const;
  /* The certificate for an SNI name as sent by the client (any case), or nullptr when the
     name is invalid or has no certificate of its own. */
  const Cert* forName(const char* name) const;
  size_t sniNames() const { return sni_.size(); }

 private:
  friend class Cache;
  friend std::string loadSniDir(const TlsConf& conf, Server& server, std::vector<std::string>& warnings);
  std::unique_ptr<Cert> default_;
  std::unordered_map<std::string, std::unique_ptr<Cert>> sni_;
};

/* JS thread only. Keeps the Server built last and what it was built from. */
class Cache {
 public:
  Cache();
  /* The Server for conf: the previous one when conf is the same and no file it read has
     changed (path, size, mtime, inode), else a fresh one. Throws std::runtime_error with a
     message naming the file and OpenSSL's reason when the default context cannot be built
     (the caller keeps the previous snapshot). Lines for the log (SNI files skipped, ...)
     are appended to warnings. Session ticket keys survive rebuilds, so clients resume
     across a certificate reload. */
  std::shared_ptr<const Server> get(const TlsConf& conf, std::vector<std::string>& warnings);

 private:
  TlsConf last_;
  std::string fingerprint_;
  std::shared_ptr<const Server> server_;
  unsigned char ticketKeys_[80];
};

// ---- shared between the tls/*.cc files ----

/* OpenSSL's error queue as one line ("" when empty); empties the queue. */
std::string takeErrors();
/* A context with pen's settings and the certificate, key and CA names of the given files
   (key and ca may be ""); throws std::runtime_error naming the file that failed. */
SSL_CTX* buildContext(const TlsConf& conf, const std::string& cert, const std::string& key,
                      const std::string& caFile, const std::string& caDir);
/* sni.cc: loads every valid DIR/<name>.crt (+ .key, .ca, .ocsp) into server; warnings for
   files skipped. Returns the fingerprint of what was read. */
std::string loadSniDir(const TlsConf& conf, Server& server, std::vector<std::string>& warnings);
/* sni.cc: the fingerprint of DIR as loadSniDir would see it now. */
std::string sniDirFingerprint(const std::string& dir);
/* sni.cc: lower-cases name into out and checks it is a plain host name; false if not. */
bool normaliseName(const char* name, size_t len, std::string& out);
/* ocsp.cc: reads a DER OCSP response file (at most kMaxOcspBytes); throws if unreadable. */
std::string readOcsp(const std::string& path);
/* ocsp.cc: installs the status callback that staples Cert::ocsp on ctx. */
void installOcsp(SSL_CTX* ctx);
/* sni.cc: installs the servername callback that switches to the name's context. */
void installSni(SSL_CTX* ctx, const Server* server);
/* context.cc: "path:size:mtime:inode;" of a file, or "path:-;" when it cannot be read. */
std::string fileStamp(const std::string& path);
/* Ex-data index on SSL_CTX that holds its Cert*. */
int certIndex();

}  // namespace pen::tls
