// Running out of file descriptors (issue 2, acceptance): pen under a low `ulimit -n` with more
// clients than it has descriptors for must not die, must keep serving the connections it has,
// and must serve new clients once others close. Clients it cannot take wait in the backlog
// (or are closed cleanly); none may hang pen.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { connect, holdOne, type Client } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';

const ip = loopback(33);

test('fd exhaustion: pen starts and serves under ulimit -n 64', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), [], [a.spec], { nofile: 64, readyTimeoutMs: 8000 }));
  const h = await holdOne(pen.endpoint);
  s.client(h.client);
  assert.equal(h.server, 'A');
}));

test('fd exhaustion: more clients than descriptors; pen survives, serves the open ones, recovers', (t) => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(12) }));
  // 128 descriptors: enough for node to start (about 25 in use), room for about 50 relays.
  const pen = s.pen(await penOn(ip(11), ['-x', '1000'], [a.spec], { nofile: 128 }));
  const clients: Client[] = [];
  const N = 150;
  await Promise.all(Array.from({ length: N }, async () => {
    const c = s.client(await connect(pen.endpoint, { timeoutMs: 5000 }));
    clients.push(c);
  }));
  // Let pen take what it can.
  await waitFor(() => clients.filter((c) => c.received > 0).length >= 10, 5000, 'some clients to be served');
  await sleep(800);
  const served = clients.filter((c) => c.received > 0);
  const closed = clients.filter((c) => c.received === 0 && c.eof);
  const waiting = clients.filter((c) => c.received === 0 && !c.eof);
  t.diagnostic(`served ${served.length}, closed ${closed.length}, waiting ${waiting.length} of ${N}`);
  assert.ok(pen.isRunning(), `pen is alive; stderr: ${pen.stderr()}`);
  assert.ok(served.length < N, `descriptors really ran out (${served.length} of ${N} served)`);
  assert.ok(served.length >= 10, `pen serves what fits (${served.length})`);

  // The open connections still relay both ways.
  await Promise.all(served.map(async (c, i) => {
    assert.equal(await c.line(3000), 'A');
    await c.write(`ping ${i}\n`);
    assert.equal(await c.line(3000), `ping ${i}`);
  }));
  assert.ok(pen.isRunning());

  // Recovery: close the served ones; the waiting clients get their turn.
  for (const c of served) c.destroy();
  if (waiting.length > 0) {
    const want = Math.min(waiting.length, 10);
    await waitFor(() => waiting.filter((c) => c.received > 0).length >= want, 8000,
      `${want} of the ${waiting.length} waiting clients to be served after others closed (closed early: ${closed.length})`);
  }
  // And once everybody is gone, brand-new clients are all served.
  for (const c of clients) c.destroy();
  await waitFor(() => a.open === 0, 5000, 'pen to close every backend connection');
  const fresh = await Promise.all(Array.from({ length: 20 }, async () => {
    const h = await holdOne(pen.endpoint, { timeoutMs: 5000 });
    s.client(h.client);
    return h.server;
  }));
  assert.deepEqual(fresh, new Array(20).fill('A'));
  assert.ok(pen.isRunning(), `pen is alive; stderr: ${pen.stderr()}`);
}));
