// Bulk relay: 50 MB in each direction at the same time, byte-exact (sha256 on both ends).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startBulk } from '../../helpers/backends.js';
import { bulkTransfer } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';
import { fdCount } from '../../helpers/udp.js';

const ip = loopback(51);
const MB = 1 << 20;

test('bulk: 50 MB up and 50 MB down at once arrive byte-exact', (t) => scoped(async (s) => {
  const size = 50 * MB;
  const b = s.backend(await startBulk('bulk', { host: ip(2) }, size));
  const pen = s.pen(await penOn(ip(1), [], [b.spec]));
  const t0 = performance.now();
  const client = await bulkTransfer(pen.endpoint, size, 60000);
  const server = await b.nextResult(10000);
  t.diagnostic(`2 x 50 MB in ${Math.round(performance.now() - t0)} ms`);
  assert.equal(server.receivedBytes, size, 'the server got every byte the client sent');
  assert.equal(server.receivedSha, client.sentSha, 'upload sha256');
  assert.equal(client.receivedBytes, size, 'the client got every byte the server sent');
  assert.equal(client.receivedSha, server.sentSha, 'download sha256');
}));

test('bulk: 4 parallel 8 MB transfers stay separate and exact', () => scoped(async (s) => {
  const size = 8 * MB;
  const b = s.backend(await startBulk('bulk', { host: ip(12) }, size));
  const pen = s.pen(await penOn(ip(11), [], [b.spec]));
  const clients = await Promise.all([0, 1, 2, 3].map(() => bulkTransfer(pen.endpoint, size, 60000)));
  const servers = await Promise.all([0, 1, 2, 3].map(() => b.nextResult(10000)));
  assert.deepEqual(clients.map((c) => c.sentSha).sort(), servers.map((r) => r.receivedSha).sort());
  assert.deepEqual(servers.map((r) => r.sentSha).sort(), clients.map((c) => c.receivedSha).sort());
  for (const c of clients) assert.equal(c.receivedBytes, size);
}));

test('bulk: splice pipes left over by a burst of transfers are closed a few seconds later', () => scoped(async (s) => {
  // Issue 12, defect 9: pooled pipes were kept forever (3 downloads left 6 descriptors).
  const size = 8 * MB;
  const b = s.backend(await startBulk('bulk', { host: ip(22) }, size));
  const pen = s.pen(await penOn(ip(21), [], [b.spec]));
  await sleep(300);
  const idle = fdCount(pen.pid);
  await Promise.all([0, 1, 2].map(() => bulkTransfer(pen.endpoint, size, 60000)));
  await Promise.all([0, 1, 2].map(() => b.nextResult(10000)));
  await waitFor(() => fdCount(pen.pid) <= idle, 12000, `pen's descriptors to return to ${idle} (now ${fdCount(pen.pid)})`);
}));
