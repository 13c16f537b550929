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
#include <cstdint>
#include <memory>
#include <mutex>
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

/* How long a session ticket key seals new tickets; it opens them for one period more. */
constexpr int64_t kTicketRotateSec = 3600;

/* The session ticket keys of a Cache (tickets.cc): the current key and the one before it.
   Thread-safe (the callback runs on the workers). */
class TicketKeys {
 public:
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    int64_t born = 0;  // steady clock, seconds
  };
  /* Fresh keys from RAND_bytes, or nullptr when the RNG fails (then no tickets at all). */
  static std::shared_ptr<TicketKeys> create();
  /* keys set: ctx seals and opens tickets with them; null: tickets are off on ctx. */
  static void install(SSL_CTX* ctx, TicketKeys* keys);
  static int index();
  /* The key sealing new tickets at `now` (rotated when due) for the context whose
     session-id context is sid; false: none usable (the RNG failed at rotation time). */
  bool current(int64_t now, const unsigned char sid[32], Key& out);
  /* The key named `name` for that context: 1 current, 2 usable but the ticket should be
     renewed, 0 unknown, expired, or sealed for another context. */
  int find(const unsigned char name[16], int64_t now, const unsigned char sid[32], Key& out);

 private:
  static bool fresh(int64_t now, Key& out);
  void rotateLocked(int64_t now);
  std::mutex mu_;
  Key cur_;
  Key prev_;
  bool hasPrev_ = false;
};

/* One certificate with its context and its stapled OCSP response (DER, may be empty). */
struct Cert {
  SSL_CTX* ctx = nullptr;
  std::string ocsp;
  unsigned char sid[32] = {};  // its session-id context (sessionIdContext); also salts its ticket keys
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
  std::shared_ptr<TicketKeys> tickets_;  // before the contexts: they point at it
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
     across a certificate reload; they rotate every kTicketRotateSec. */
  std::shared_ptr<const Server> get(const TlsConf& conf, std::vector<std::string>& warnings);

 private:
  TlsConf last_;
  std::string fingerprint_;
  std::shared_ptr<const Server> server_;
  std::shared_ptr<TicketKeys> tickets_;  // null while RAND_bytes fails: tickets off
};

// ---- shared between the tls/*.cc files ----

/* OpenSSL's error queue as one line ("" when empty); empties the queue. */
std::string takeErrors();
/* The session-id context of the context for sniName ("" = the default one): SHA-256 of
   "pen sni " + sniName. */
void sessionIdContext(const std::string& sniName, unsigned char out[32]);
/* A context with pen's settings and the certificate, key and CA names of the given files
   (key and ca may be ""); throws std::runtime_error naming the file that failed. Its
   session-id context is derived from sniName ("" for the default context): a session
   established under one name never resumes under another. */
SSL_CTX* buildContext(const TlsConf& conf, const std::string& cert, const std::string& key,
                      const std::string& caFile, const std::string& caDir, const std::string& sniName);
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
