// TLS termination (-E, -K; spec/ssl.md, issue 5): real clients (openssl s_client, curl, node's
// tls) against certificates made by the test; data both ways; the handshake runs while the
// backend connects (quirk 55); bad input -- plain text to the TLS port, a truncated or stalled
// handshake, a key that does not fit -- ends in a clean close or a clear error, never a crash
// or a stuck connection.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import tls from 'node:tls';

import { pattern, sha256, startEcho, startHttpNamed, startHungListener } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn, runPen } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor, withTimeout } from '../../helpers/time.js';
import { curl, hasCommand, makeCa, makeCert, peerCn, sClient, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(111);
let ca: Ca;
let server: KeyPair;
let other: KeyPair;

before(() => {
  ca = makeCa('handshake');
  server = makeCert(ca, 'localhost');
  other = makeCert(ca, 'other.example');
});
after(() => removeDir(ca.dir));

const tlsArgs = (): string[] => ['-E', server.cert, '-K', server.key];

/** A node TLS client trusting the test CA; resolves once the handshake is done. */
function tlsConnect(e: { host: string; port: number }, servername = 'localhost'): Promise<tls.TLSSocket> {
  return withTimeout(new Promise((resolve, reject) => {
    const s = tls.connect({ host: e.host, port: e.port, ca: fs.readFileSync(ca.cert), servername });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  }), 5000, 'a TLS handshake through pen');
}

test('openssl s_client: handshake with the -E certificate, a request up and the answer down', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), tlsArgs(), [b.spec]));
  const r = await sClient(pen.endpoint, ca.cert, ['-servername', 'localhost'], 'GET / HTTP/1.0\r\n\r\n', { wait: true });
  assert.equal(peerCn(r.stdout), 'localhost');
  assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
  assert.match(r.stdout, /TLSv1\.3/);
  assert.match(r.stdout, /HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nweb/);
  assert.equal(b.requests, 1);
}));

test('curl over TLS, several requests and two connections', { skip: !hasCommand('curl') && 'curl not installed' }, () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('curl-web', { host: ip(12) }));
  const pen = s.pen(await penOn(ip(11), tlsArgs(), [b.spec]));
  for (let i = 0; i < 2; i++) {
    const r = await curl('localhost', pen.endpoint, ca.cert, '/', ['-w', '|%{http_code}|%{ssl_verify_result}']);
    assert.equal(r.stdout, 'curl-web|200|0', r.stderr);
  }
}));

test('1 MB each way through TLS with half-close, byte-exact (node tls client)', () => scoped(async (s) => {
  const b = s.backend(await startEcho('echo', { host: ip(22) }));
  const pen = s.pen(await penOn(ip(21), tlsArgs(), [b.spec]));
  const sock = await tlsConnect(pen.endpoint);
  s.defer(() => sock.destroy());
  const data = pattern(1 << 20, 4);
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  const ended = new Promise<void>((resolve) => sock.once('end', () => resolve()));
  sock.end(data);
  await withTimeout(ended, 10000, 'the echo and the EOF after it');
  const got = Buffer.concat(chunks);
  assert.equal(got.length, data.length);
  assert.equal(sha256(got), sha256(data));
}));

test('the handshake completes while the backend connect still hangs (quirk 55)', () => scoped(async (s) => {
  const hung = await startHungListener(ip(32));
  if (!hung) return;
  s.defer(() => hung.close());
  const pen = s.pen(await penOn(ip(31), ['-t', '5', ...tlsArgs()], [hung.spec]));
  const t0 = performance.now();
  const sock = await tlsConnect(pen.endpoint);
  s.defer(() => sock.destroy());
  assert.ok(performance.now() - t0 < 3000, 'handshake done long before the 5 s connect timeout');
  assert.equal(sock.getPeerCertificate().subject.CN, 'localhost');
}));

test('plain text to the TLS port, a truncated and a stalled handshake: clean closes, pen keeps serving', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('after', { host: ip(42) }));
  const pen = s.pen(await penOn(ip(41), ['-d', '-d', ...tlsArgs()], [b.spec]));
  const plain = s.client(await connect(pen.endpoint));
  plain.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await plain.readToEnd(5000);
  assert.ok(!plain.text().includes('after'), 'nothing of the backend reaches a plain-text client');

  // The first bytes of a ClientHello (record header + handshake header), then EOF.
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 1, 2, 3, 4]);
  const cut = s.client(await connect(pen.endpoint));
  cut.end(hello);
  await cut.readToEnd(5000);

  const stalled = s.client(await connect(pen.endpoint));
  await stalled.write(hello);
  const t0 = performance.now();
  await stalled.readToEnd(15000);
  const waited = performance.now() - t0;
  assert.ok(waited >= 8000 && waited < 15000, `the stalled handshake was dropped after ${waited} ms (deadline 10 s)`);

  const sock = await tlsConnect(pen.endpoint);
  sock.end('GET / HTTP/1.0\r\n\r\n');
  const answer = await withTimeout(new Promise<string>((resolve) => {
    let t = '';
    sock.on('data', (d: Buffer) => { t += d.toString(); });
    sock.once('end', () => resolve(t));
  }), 5000, 'an answer after the bad clients');
  assert.match(answer, /\r\n\r\nafter$/);
  assert.match(pen.stderr(), /TLS handshake failed: [^\n]*(http request|wrong version number|packet length too long)/);
  // The data plane's log lines reach stderr through the control plane: wait for this one.
  await waitFor(() => /TLS handshake timed out/.test(pen.stderr()), 3000, `the time-out line:\n${pen.stderr()}`);
}));

test('a key that does not match the certificate, or a missing file, stops pen at start with a clear message', async () => {
  const r = await runPen(['-f', '-E', server.cert, '-K', other.key, `${ip(51)}:8443`, `${ip(52)}:8080`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pen: TLS: the private key '.*other\.example\.key' does not match the certificate '.*localhost\.crt'/m);
  const r2 = await runPen(['-f', '-E', server.cert, '-K', `${ca.dir}/missing.key`, `${ip(51)}:8443`, `${ip(52)}:8080`]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /^pen: TLS: cannot load the private key '.*missing\.key'/m);
});
