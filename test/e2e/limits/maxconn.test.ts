// Per-server limits from the backend spec host:port:maxc:hard (spec/selection.md §4): a server
// with maxc connections takes no new client, except a client tracked to it while fewer than
// `hard` are open; the rejected client fails over to another server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startBanner } from '../../helpers/backends.js';
import { holdOne } from '../../helpers/clients.js';
import { loopback, type Endpoint } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped, type Scope } from '../../helpers/scope.js';

const ip = loopback(31);

async function hold(s: Scope, e: Endpoint, from: string): Promise<string> {
  const h = await holdOne(e, { localAddress: from });
  s.client(h.client);
  return h.server;
}

test('soft max: a server at maxc gets no new client; the rest fail over', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const b = s.backend(await startBanner('B', { host: ip(3) }));
  const pen = s.pen(await penOn(ip(1), ['-r'], [`${a.spec}:2`, b.spec]));
  const names: string[] = [];
  for (let i = 0; i < 6; i++) names.push(await hold(s, pen.endpoint, ip(100 + i)));
  // roundrobin A,B,A,B; then A is full (2) and its turns go to B.
  assert.deepEqual(names, ['A', 'B', 'A', 'B', 'B', 'B']);
  assert.equal(a.open, 2, 'never more than maxc on A');
  assert.equal(b.open, 4);
}));

test('soft max with hard 0: even a client tracked to the full server goes elsewhere', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(12) }));
  const b = s.backend(await startBanner('B', { host: ip(13) }));
  const pen = s.pen(await penOn(ip(11), [], [`${a.spec}:1`, b.spec]));
  const x = ip(100);
  assert.equal(await hold(s, pen.endpoint, x), 'A');
  assert.equal(await hold(s, pen.endpoint, x), 'B', 'A is at maxc 1 and hard is 0');
  assert.equal(a.open, 1);
}));

test('hard max: tracked clients may exceed maxc up to hard; others may not', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(22) }));
  const b = s.backend(await startBanner('B', { host: ip(23) }));
  const pen = s.pen(await penOn(ip(21), [], [`${a.spec}:1:2`, b.spec]));
  const x = ip(100);
  const names = [
    await hold(s, pen.endpoint, x), // new client: roundrobin -> A (1 open)
    await hold(s, pen.endpoint, x), // tracked to A: 1 >= maxc but < hard -> A (2 open)
    await hold(s, pen.endpoint, x), // tracked to A: 2 >= hard -> B
    await hold(s, pen.endpoint, ip(101)), // new: roundrobin -> B
    await hold(s, pen.endpoint, ip(102)), // new: roundrobin -> A, full for untracked -> B
  ];
  assert.deepEqual(names, ['A', 'A', 'B', 'B', 'B']);
  assert.equal(a.open, 2, 'hard (2) is the ceiling');
}));
