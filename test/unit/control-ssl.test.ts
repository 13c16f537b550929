// The http and ssl_* commands (lib/control/commands/ssl.ts), how the TLS settings become the
// snapshot's version range (tlsOf), and `write` -> read for all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSettings, type Settings } from '../../lib/config/settings.js';
import { commandTable } from '../../lib/control/table.js';
import { renderConfig } from '../../lib/control/writer.js';
import { loadConfigFile } from '../../lib/control/reload.js';
import { TLS_VERSION } from '../../lib/engine/native.js';
import { tlsOf } from '../../lib/engine/to-snapshot.js';
import { makeContext, run } from './control-fixture.js';

test('http / no http', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'http'), '');
  assert.equal(ctx.settings().http, true);
  assert.equal(await run(ctx, 'no http'), '');
  assert.equal(ctx.settings().http, false);
  const udp = makeContext({ udp: true });
  assert.equal(await run(udp, 'http'), 'pen: http: http needs TCP: pen runs in UDP mode (-U)\n');
});

test('ssl_option accumulates each word once; unknown words and a missing word are refused; no ssl_option clears', async () => {
  const ctx = makeContext();
  for (const o of ['no_tlsv1', 'cipher_server_preference', 'no_tlsv1']) assert.equal(await run(ctx, `ssl_option ${o}`), '');
  assert.deepEqual(ctx.settings().sslOptions, ['no_tlsv1', 'cipher_server_preference']);
  assert.match(await run(ctx, 'ssl_option no_such'), /^pen: ssl_option: the option must be one of no_sslv2, .*, got "no_such"/);
  assert.match(await run(ctx, 'ssl_option'), /^pen: ssl_option: missing option \(one of no_sslv2, /);
  assert.equal(await run(ctx, 'no ssl_option'), '');
  assert.deepEqual(ctx.settings().sslOptions, []);
});

test('ssl_ciphers, ssl_ciphersuites: set, and back to the default without an argument', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'ssl_ciphers ECDHE+AESGCM'), '');
  assert.equal(await run(ctx, 'ssl_ciphersuites TLS_AES_128_GCM_SHA256'), '');
  assert.equal(ctx.settings().sslCiphers, 'ECDHE+AESGCM');
  assert.equal(ctx.settings().sslCiphersuites, 'TLS_AES_128_GCM_SHA256');
  assert.equal(await run(ctx, 'ssl_ciphers'), '');
  assert.equal(ctx.settings().sslCiphers, null);
});

test('ssl_sni_path, ssl_ocsp_response: show, set (absolute), no ...; ssl_client_renegotiation_interval kept', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'ssl_sni_path'), '');
  assert.equal(await run(ctx, 'ssl_sni_path /etc/pen/sni'), '');
  assert.equal(await run(ctx, 'ssl_sni_path'), '/etc/pen/sni\n');
  assert.equal(await run(ctx, 'ssl_ocsp_response ocsp.der'), '');
  assert.equal(ctx.settings().sslOcspResponse, `${process.cwd()}/ocsp.der`);
  assert.equal(await run(ctx, 'no ssl_sni_path'), '');
  assert.equal(await run(ctx, 'no ssl_ocsp_response'), '');
  assert.equal(ctx.settings().sslSniPath, null);
  assert.equal(ctx.settings().sslOcspResponse, null);
  assert.equal(await run(ctx, 'ssl_client_renegotiation_interval'), '3600\n');
  assert.equal(await run(ctx, 'ssl_client_renegotiation_interval 60'), '');
  assert.equal(await run(ctx, 'ssl_client_renegotiation_interval'), '60\n');
});

test('tlsOf: no -E, no TLS; -L and ssl_option become a TLS 1.2..1.3 range', () => {
  const s = defaultSettings();
  assert.equal(tlsOf(s), null);
  s.sslCert = '/c.pem';
  assert.deepEqual([tlsOf(s)!.minVersion, tlsOf(s)!.maxVersion], [TLS_VERSION.tls12, TLS_VERSION.tls13]);
  s.sslOptions = ['no_sslv3', 'no_tlsv1', 'no_tlsv1.1'];
  assert.deepEqual([tlsOf(s)!.minVersion, tlsOf(s)!.maxVersion], [TLS_VERSION.tls12, TLS_VERSION.tls13], 'old words change nothing');
  s.sslOptions = ['no_tlsv1.2'];
  assert.equal(tlsOf(s)!.minVersion, TLS_VERSION.tls13);
  s.sslOptions = ['no_tlsv1.3', 'cipher_server_preference'];
  assert.equal(tlsOf(s)!.maxVersion, TLS_VERSION.tls12);
  assert.equal(tlsOf(s)!.serverPreference, true);
  s.sslOptions = [];
  s.sslProtocol = 'tls1.3';
  assert.equal(tlsOf(s)!.minVersion, TLS_VERSION.tls13);
  assert.equal(tlsOf(s)!.key, '', 'no -K: the key is read from the -E file');
});

test('write -> read keeps http and every ssl_* setting; the TLS options go on line 2', async () => {
  const s = defaultSettings();
  s.listen = '8443';
  s.servers = [{ host: '127.0.0.1', port: 8080, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 }];
  Object.assign(s, {
    http: true, sslCert: '/etc/pen/cert.pem', sslKey: '/etc/pen/key.pem', sslCaFile: '/etc/pen/ca.pem',
    sslVerifyClient: true, sslProtocol: 'tls1.3', sslOptions: ['cipher_server_preference', 'no_tlsv1.3'],
    sslCiphers: 'ECDHE+AESGCM', sslCiphersuites: 'TLS_AES_256_GCM_SHA384', sslSniPath: '/etc/pen/sni',
    sslOcspResponse: '/etc/pen/ocsp.der', sslRenegotiationInterval: 10, configFile: '/etc/pen.cfg',
  } satisfies Partial<Settings>);
  const text = renderConfig(commandTable(), s, { file: '/etc/pen.cfg', now: new Date() });
  const lines = text.split('\n');
  assert.equal(lines[1], "# pen -E '/etc/pen/cert.pem' -K '/etc/pen/key.pem' -G '/etc/pen/ca.pem' -R -L tls1.3 -F '/etc/pen.cfg'");
  for (const l of ['http', 'ssl_ciphers ECDHE+AESGCM', 'ssl_ciphersuites TLS_AES_256_GCM_SHA384',
    'ssl_option cipher_server_preference', 'ssl_option no_tlsv1.3', 'ssl_sni_path /etc/pen/sni',
    'ssl_ocsp_response /etc/pen/ocsp.der', 'ssl_client_renegotiation_interval 10']) assert.ok(lines.includes(l), l);
  const base = defaultSettings();
  for (const k of ['sslCert', 'sslKey', 'sslCaFile', 'sslVerifyClient', 'sslProtocol', 'configFile'] as const) {
    (base as Record<string, unknown>)[k] = s[k];
  }
  const ctx = makeContext(base);
  ctx.files.set('/etc/pen.cfg', text);
  const result = await loadConfigFile(ctx, '/etc/pen.cfg', ctx.settings(), { startup: true });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(ctx.settings(), s);
  // Defaults write nothing of TLS.
  assert.doesNotMatch(renderConfig(commandTable(), defaultSettings(), { file: '/x', now: new Date() }), /ssl_/);
});
