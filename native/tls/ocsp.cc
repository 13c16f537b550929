// OCSP stapling (`ssl_ocsp_response FILE`, DIR/NAME.ocsp; spec/ssl.md "OCSP stapling"): a
// pre-fetched DER response (e.g. from `openssl ocsp ... -respout FILE`, as Pen's pen-ocsp.sh
// cron script does) is read on the JS thread when the contexts are built and handed to every
// client that asks for certificate status. pen neither parses nor checks the response (Pen
// did not either); an empty file means no staple. Unlike Pen, which forgot FILE after one
// read, the file is re-read whenever it changes (before the next command or HUP) and on
// every `ssl_ocsp_response FILE`.
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "tls/tls.h"

namespace pen::tls {

namespace {

/* Worker thread, during a handshake whose ClientHello asked for status. */
int onStatus(SSL* ssl, void*) {
  const Cert* cert = static_cast<const Cert*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), certIndex()));
  if (!cert || cert->ocsp.empty()) return SSL_TLSEXT_ERR_NOACK;
  auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(cert->ocsp.size()));  // OpenSSL frees it
  if (!copy) return SSL_TLSEXT_ERR_NOACK;
  memcpy(copy, cert->ocsp.data(), cert->ocsp.size());
  SSL_set_tlsext_status_ocsp_resp(ssl, copy, long(cert->ocsp.size()));
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::string readOcsp(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot read the OCSP response '" + path + "': " + strerror(errno));
  std::string out;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
    if (out.size() > kMaxOcspBytes) {
      fclose(f);
      throw std::runtime_error("the OCSP response '" + path + "' is larger than " + std::to_string(kMaxOcspBytes) +
                               " bytes");
    }
  }
  fclose(f);
  return out;
}

void installOcsp(SSL_CTX* ctx) {
  SSL_CTX_set_tlsext_status_cb(ctx, onStatus);
}

}  // namespace pen::tls
