// Session ticket keys (spec/ssl.md "Session resumption"): pen seals tickets itself, through
// OpenSSL's ticket key callback, so that the keys rotate and so that each context (each SNI
// name) seals with keys of its own, derived from the shared ones and its session-id context:
// a ticket issued under one name cannot be opened under another (OpenSSL does not compare
// session-id contexts for TLS 1.3 tickets). A key encrypts new tickets for
// kTicketRotateSec, then stays one more period for decryption only (a ticket it sealed is
// accepted and replaced by a fresh one); older tickets fall back to a full handshake. A
// resumed TLS 1.3 connection always gets fresh tickets: its clients use each one once. Keys
// come from RAND_bytes only: when it fails no key exists and no ticket is issued (sessions
// still resume by id), never a predictable key.
//
// Threads: TicketKeys is created on the JS thread (Cache) and shared by every Server built
// from that Cache; the callback runs on the worker threads during handshakes. One mutex
// guards the two keys (held for a copy of 80 bytes, at most once per handshake).
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstring>

#include "tls/tls.h"

namespace pen::tls {

namespace {

/* base's key material salted with a context's session-id context: out = SHA-256(label, bytes, sid). */
void salt(const char* label, const unsigned char* bytes, size_t n, const unsigned char sid[32], unsigned char out[32]) {
  unsigned char buf[8 + 32 + 32];
  size_t l = strlen(label);
  memcpy(buf, label, l);
  memcpy(buf + l, bytes, n);
  memcpy(buf + l + n, sid, 32);
  SHA256(buf, l + n + 32, out);
  OPENSSL_cleanse(buf, sizeof buf);
}

void derive(const TicketKeys::Key& base, const unsigned char sid[32], TicketKeys::Key& out) {
  unsigned char name[32];
  salt("name", base.name, sizeof base.name, sid, name);
  memcpy(out.name, name, sizeof out.name);
  salt("aes", base.aes, sizeof base.aes, sid, out.aes);
  salt("hmac", base.hmac, sizeof base.hmac, sid, out.hmac);
  out.born = base.born;
}

int64_t nowSec() {
  using namespace std::chrono;
  return duration_cast<seconds>(steady_clock::now().time_since_epoch()).count();
}

/* OpenSSL's ticket key callback (see SSL_CTX_set_tlsext_ticket_key_evp_cb): enc = 1 seals a
   new ticket with the current key; enc = 0 opens one with the key its name names. */
int onTicketKey(SSL* ssl, unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* ectx, EVP_MAC_CTX* hctx,
                int enc) {
  SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);  // the name's context once sni.cc switched to it
  auto* keys = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(ctx, TicketKeys::index()));
  auto* cert = static_cast<const Cert*>(SSL_CTX_get_ex_data(ctx, certIndex()));
  if (!keys || !cert) return 0;
  TicketKeys::Key k;
  int result = 1;
  if (enc) {
    if (!keys->current(nowSec(), cert->sid, k)) return 0;  // no usable key: no ticket this time
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return 0;
    memcpy(name, k.name, sizeof k.name);
    if (EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), nullptr, k.aes, iv) != 1) return -1;
  } else {
    result = keys->find(name, nowSec(), cert->sid, k);
    if (result == 0) return 0;  // unknown or expired key: a full handshake
    // TLS 1.3 clients use a ticket once (RFC 8446 C.4; OpenSSL's client does): without fresh
    // ones after a resumption, every other connection would be a full handshake. OpenSSL
    // sends new tickets on a resumed TLS 1.3 connection only when asked to renew.
    if (SSL_version(ssl) == TLS1_3_VERSION) result = 2;
    if (EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), nullptr, k.aes, iv) != 1) return -1;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof k.hmac),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_CTX_set_params(hctx, params) != 1) return -1;
  OPENSSL_cleanse(&k, sizeof k);
  return result;
}

}  // namespace

int TicketKeys::index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool TicketKeys::fresh(int64_t now, Key& out) {
  Key k;
  if (RAND_bytes(k.name, sizeof k.name) != 1 || RAND_bytes(k.aes, sizeof k.aes) != 1 ||
      RAND_bytes(k.hmac, sizeof k.hmac) != 1)
    return false;
  k.born = now;
  out = k;
  OPENSSL_cleanse(&k, sizeof k);
  return true;
}

std::shared_ptr<TicketKeys> TicketKeys::create() {
  auto keys = std::make_shared<TicketKeys>();
  if (!fresh(nowSec(), keys->cur_)) return nullptr;
  return keys;
}

void TicketKeys::rotateLocked(int64_t now) {
  if (now - cur_.born < kTicketRotateSec) return;
  Key next;
  if (!fresh(now, next)) return;  // the RNG failed: current() stops sealing once cur_ is too old
  prev_ = cur_;
  hasPrev_ = true;
  cur_ = next;
  OPENSSL_cleanse(&next, sizeof next);
}

bool TicketKeys::current(int64_t now, const unsigned char sid[32], Key& out) {
  std::lock_guard<std::mutex> lock(mu_);
  rotateLocked(now);
  if (now - cur_.born >= kTicketRotateSec) return false;
  derive(cur_, sid, out);
  return true;
}

int TicketKeys::find(const unsigned char name[16], int64_t now, const unsigned char sid[32], Key& out) {
  std::lock_guard<std::mutex> lock(mu_);
  rotateLocked(now);
  const Key* keys[2] = {&cur_, hasPrev_ ? &prev_ : nullptr};
  for (const Key* k : keys) {
    if (!k || now - k->born >= 2 * kTicketRotateSec) continue;
    derive(*k, sid, out);
    if (CRYPTO_memcmp(name, out.name, sizeof out.name) == 0) {
      // A key past its sealing period still opens; OpenSSL then replaces the ticket.
      return k == &cur_ && now - k->born < kTicketRotateSec ? 1 : 2;
    }
  }
  OPENSSL_cleanse(&out, sizeof out);
  return 0;
}

void TicketKeys::install(SSL_CTX* ctx, TicketKeys* keys) {
  if (!keys) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return;
  }
  SSL_CTX_set_ex_data(ctx, index(), keys);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, onTicketKey);
}

}  // namespace pen::tls
