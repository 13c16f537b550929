// Session resumption (spec/ssl.md: server session cache and tickets): TLS 1.3 tickets, TLS 1.2
// tickets and TLS 1.2 session ids all resume; tickets stay valid across a HUP that rebuilds
// the contexts (the ticket keys are kept).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep } from '../../helpers/time.js';
import { makeCa, makeCert, sClient, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(116);
let ca: Ca;
let cert: KeyPair;

before(() => {
  ca = makeCa('resume');
  cert = makeCert(ca, 'localhost');
});
after(() => removeDir(ca.dir));

/** s_client runs in a chain (each resumes the session the one before it saved; `between` runs
    after the first): returns whether each was "New" or "Reused". */
async function chain(e: { host: string; port: number }, args: string[], tag: string, runs: number,
  between?: () => Promise<void>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < runs; i++) {
    const sessIn = path.join(ca.dir, `${tag}.${i - 1}.sess`);
    const sessOut = path.join(ca.dir, `${tag}.${i}.sess`);
    fs.rmSync(sessOut, { force: true });
    // -ign_eof with a request: s_client stays until the server closes, so TLS 1.3 tickets
    // (sent after the handshake) are read and saved.
    const r = await sClient(e, ca.cert, [...args, ...(i > 0 ? ['-sess_in', sessIn] : []), '-sess_out', sessOut],
      'GET / HTTP/1.0\r\n\r\n', { wait: true });
    out.push(/^(New|Reused),/m.exec(r.stdout)?.[1] ?? 'failed');
    if (i > 0) assert.match(r.stdout, /\r\n\r\nweb/, 'the resumed session carries data');
    if (i === 0 && between) await between();
  }
  return out;
}

const twice = (e: { host: string; port: number }, args: string[], tag: string, between?: () => Promise<void>) =>
  chain(e, args, tag, 2, between);

test('TLS 1.3 tickets, TLS 1.2 tickets and TLS 1.2 session ids resume', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-E', cert.cert, '-K', cert.key], [b.spec]));
  assert.deepEqual(await twice(pen.endpoint, [], 'tls13'), ['New', 'Reused']);
  assert.deepEqual(await twice(pen.endpoint, ['-tls1_2'], 'tls12-ticket'), ['New', 'Reused']);
  assert.deepEqual(await twice(pen.endpoint, ['-tls1_2', '-no_ticket'], 'tls12-id'), ['New', 'Reused']);
}));

test('a resumed TLS 1.3 connection gets fresh tickets, so a client that uses each ticket once resumes every time', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(22) }));
  const pen = s.pen(await penOn(ip(21), ['-E', cert.cert, '-K', cert.key], [b.spec]));
  assert.deepEqual(await chain(pen.endpoint, [], 'tls13-chain', 4), ['New', 'Reused', 'Reused', 'Reused']);
  // TLS 1.2 clients keep a ticket: the first one resumes again after a resumption.
  assert.deepEqual(await twice(pen.endpoint, ['-tls1_2'], 'tls12-again'), ['New', 'Reused']);
  const again = await sClient(pen.endpoint, ca.cert, ['-tls1_2', '-sess_in', path.join(ca.dir, 'tls12-again.0.sess')],
    'GET / HTTP/1.0\r\n\r\n', { wait: true });
  assert.match(again.stdout, /^Reused,/m);
}));

test('a ticket issued before HUP (contexts rebuilt for a new certificate) still resumes', () => scoped(async (s) => {
  const certFile = path.join(ca.dir, 'live.crt');
  const keyFile = path.join(ca.dir, 'live.key');
  fs.copyFileSync(cert.cert, certFile);
  fs.copyFileSync(cert.key, keyFile);
  const b = s.backend(await startHttpNamed('web', { host: ip(12) }));
  const pen = s.pen(await penOn(ip(11), ['-E', certFile, '-K', keyFile], [b.spec]));
  const renewed = makeCert(ca, 'localhost', { file: 'renewed' });
  const result = await twice(pen.endpoint, [], 'hup', async () => {
    fs.copyFileSync(renewed.cert, certFile);
    fs.copyFileSync(renewed.key, keyFile);
    process.kill(pen.pid, 'SIGHUP');
    await sleep(300);
  });
  assert.deepEqual(result, ['New', 'Reused']);
}));
