// Protocol and cipher restrictions (-L, ssl_option, ssl_ciphers, ssl_ciphersuites; spec/ssl.md
// "modern equivalents"): TLS 1.2 and 1.3 by default, never older; -L tls1.3 / no_tlsv1.2 raise
// the floor, no_tlsv1.3 lowers the ceiling; cipher lists are honoured, and a list OpenSSL does
// not know is refused with the previous one kept.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { command, penWithControl } from '../../helpers/control.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { makeCa, makeCert, sClient, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(115);
let ca: Ca;
let cert: KeyPair;

before(() => {
  ca = makeCa('proto');
  cert = makeCert(ca, 'localhost');
});
after(() => removeDir(ca.dir));

/** The protocol and cipher s_client negotiated, or null when the handshake failed. */
async function negotiated(e: { host: string; port: number }, args: string[]): Promise<{ protocol: string; cipher: string } | null> {
  const r = await sClient(e, ca.cert, args, '');
  const m = /^New, (\S+), Cipher is (\S+)/m.exec(r.stdout);
  if (!m || m[1] === '(NONE)' || m[2] === '(NONE)') return null;
  return { protocol: m[1]!, cipher: m[2]! };
}

test('default: TLS 1.3 and 1.2 are spoken, 1.1 and 1.0 are not', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-E', cert.cert, '-K', cert.key], [b.spec]));
  assert.equal((await negotiated(pen.endpoint, []))?.protocol, 'TLSv1.3');
  assert.equal((await negotiated(pen.endpoint, ['-tls1_2']))?.protocol, 'TLSv1.2');
  assert.equal(await negotiated(pen.endpoint, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']), null);
  assert.equal(await negotiated(pen.endpoint, ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']), null);
}));

test('-L tls1.3 and ssl_option no_tlsv1.2: TLS 1.3 only; no_tlsv1.3: TLS 1.2 only', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(12) }));
  for (const opts of [['-L', 'tls1.3'], ['-O', 'ssl_option no_tlsv1.2']]) {
    const pen = s.pen(await penOn(ip(11), ['-E', cert.cert, '-K', cert.key, ...opts], [b.spec]));
    assert.equal((await negotiated(pen.endpoint, []))?.protocol, 'TLSv1.3', opts.join(' '));
    assert.equal(await negotiated(pen.endpoint, ['-tls1_2']), null, opts.join(' '));
    await pen.stop();
  }
  const pen = s.pen(await penOn(ip(11), ['-E', cert.cert, '-K', cert.key, '-O', 'ssl_option no_tlsv1.3'], [b.spec]));
  assert.equal((await negotiated(pen.endpoint, []))?.protocol, 'TLSv1.2');
  assert.equal(await negotiated(pen.endpoint, ['-tls1_3']), null);
}));

test('ssl_ciphers (TLS 1.2) and ssl_ciphersuites (TLS 1.3) are honoured, also when changed at run time', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(22) }));
  const pen = s.pen(await penWithControl(ip(21), ['-E', cert.cert, '-K', cert.key,
    '-O', 'ssl_ciphers ECDHE-ECDSA-CHACHA20-POLY1305', '-O', 'ssl_ciphersuites TLS_AES_128_GCM_SHA256'], [b.spec]));
  assert.equal((await negotiated(pen.endpoint, ['-tls1_2']))?.cipher, 'ECDHE-ECDSA-CHACHA20-POLY1305');
  assert.equal(await negotiated(pen.endpoint, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384']), null);
  assert.equal((await negotiated(pen.endpoint, []))?.cipher, 'TLS_AES_128_GCM_SHA256');
  assert.equal(await negotiated(pen.endpoint, ['-ciphersuites', 'TLS_AES_256_GCM_SHA384']), null);

  assert.equal(await command(pen.control, 'ssl_ciphersuites TLS_CHACHA20_POLY1305_SHA256'), '');
  assert.equal((await negotiated(pen.endpoint, []))?.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
  assert.match(await command(pen.control, 'ssl_ciphers NO-SUCH-CIPHER'), /^pen: TLS: ssl_ciphers 'NO-SUCH-CIPHER': no cipher match/);
  assert.equal((await negotiated(pen.endpoint, ['-tls1_2']))?.cipher, 'ECDHE-ECDSA-CHACHA20-POLY1305', 'the old list stays');
  assert.match(await command(pen.control, 'ssl_option no_such_thing'), /^pen: ssl_option: the option must be one of/);
  assert.equal(await command(pen.control, 'ssl_option cipher_server_preference'), '');
}));
