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

/** Two s_client runs sharing a session file: returns whether each was "New" or "Reused". */
async function twice(e: { host: string; port: number }, args: string[], tag: string, between?: () => Promise<void>): Promise<string[]> {
  const sess = path.join(ca.dir, `${tag}.sess`);
  fs.rmSync(sess, { force: true });
  const out: string[] = [];
  // -ign_eof with a request: s_client stays until the server closes, so TLS 1.3 tickets
  // (sent after the handshake) are read and saved.
  const first = await sClient(e, ca.cert, [...args, '-sess_out', sess], 'GET / HTTP/1.0\r\n\r\n', { wait: true });
  out.push(/^(New|Reused),/m.exec(first.stdout)?.[1] ?? 'failed');
  if (between) await between();
  const second = await sClient(e, ca.cert, [...args, '-sess_in', sess], 'GET / HTTP/1.0\r\n\r\n', { wait: true });
  out.push(/^(New|Reused),/m.exec(second.stdout)?.[1] ?? 'failed');
  assert.match(second.stdout, /\r\n\r\nweb/, 'the resumed session carries data');
  return out;
}

test('TLS 1.3 tickets, TLS 1.2 tickets and TLS 1.2 session ids resume', () => scoped(async (s) => {
  const b = s.backend(await startHttpNamed('web', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-E', cert.cert, '-K', cert.key], [b.spec]));
  assert.deepEqual(await twice(pen.endpoint, [], 'tls13'), ['New', 'Reused']);
  assert.deepEqual(await twice(pen.endpoint, ['-tls1_2'], 'tls12-ticket'), ['New', 'Reused']);
  assert.deepEqual(await twice(pen.endpoint, ['-tls1_2', '-no_ticket'], 'tls12-id'), ['New', 'Reused']);
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
