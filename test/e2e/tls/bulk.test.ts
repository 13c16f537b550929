// 100 MB through TLS in each direction at once, byte-exact (issue 5 acceptance): the buffered
// TLS path with back-pressure on both sides, then close_notify and FIN after the last byte.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';

import { startBulk } from '../../helpers/backends.js';
import { loopback, removeDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { withTimeout } from '../../helpers/time.js';
import { makeCa, makeCert, type Ca, type KeyPair } from '../../helpers/tls.js';

const ip = loopback(117);
const MB = 1 << 20;
let ca: Ca;
let cert: KeyPair;

before(() => {
  ca = makeCa('bulk');
  cert = makeCert(ca, 'localhost');
});
after(() => removeDir(ca.dir));

test('TLS: 100 MB up and 100 MB down at once arrive byte-exact', (t) => scoped(async (s) => {
  const size = 100 * MB;
  const b = s.backend(await startBulk('bulk', { host: ip(2) }, size));
  const pen = s.pen(await penOn(ip(1), ['-E', cert.cert, '-K', cert.key], [b.spec]));
  const t0 = performance.now();
  const sock = await withTimeout(new Promise<tls.TLSSocket>((resolve, reject) => {
    const t = tls.connect({ ...pen.endpoint, servername: 'localhost', ca: fs.readFileSync(ca.cert) });
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  }), 5000, 'the handshake');
  s.defer(() => sock.destroy());
  const up = createHash('sha256');
  const down = createHash('sha256');
  let received = 0;
  sock.on('data', (d: Buffer) => {
    received += d.length;
    down.update(d);
  });
  const ended = new Promise<void>((resolve) => sock.once('end', () => resolve()));
  const chunk = 256 * 1024;
  for (let sent = 0; sent < size; sent += chunk) {
    const piece = randomBytes(Math.min(chunk, size - sent));
    up.update(piece);
    if (!sock.write(piece)) await new Promise((r) => sock.once('drain', r));
  }
  sock.end();
  await withTimeout(ended, 120000, 'the download and its EOF');
  const server = await b.nextResult(20000);
  t.diagnostic(`2 x 100 MB through TLS in ${Math.round(performance.now() - t0)} ms`);
  assert.equal(server.receivedBytes, size, 'the server got every byte');
  assert.equal(server.receivedSha, up.digest('hex'), 'upload sha256');
  assert.equal(received, size, 'the client got every byte');
  assert.equal(down.digest('hex'), server.sentSha, 'download sha256');
}));
