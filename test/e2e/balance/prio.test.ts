// Priority (-O prio): every client goes to the available server with the smallest prio value;
// when it cannot be used, pen moves to the next-best priority (Pen walked index order).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { closedPort, startBanner, startHttpNamed } from '../../helpers/backends.js';
import { holdOne, whoAnswers } from '../../helpers/clients.js';
import { loopback, specOf } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(15);
const prio = (spec: string, p: number, maxc = 0): string => `${spec}:${maxc}:0:0:${p}`;

test('prio: all clients go to the server with the lowest prio value', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
  const c = s.backend(await startHttpNamed('C', { host: ip(4) }));
  const pen = s.pen(await penOn(ip(1), ['-O', 'prio'], [prio(a.spec, 2), prio(b.spec, 1), prio(c.spec, 3)]));
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push(await whoAnswers(pen.endpoint, { localAddress: ip(100 + i) }));
  assert.deepEqual(seen, ['B', 'B', 'B', 'B', 'B', 'B']);
  assert.equal(a.requests + c.requests, 0);
}));

test('prio: when the best server refuses, clients go to the next-best prio, not the next index', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const dead = await closedPort(ip(13));
  const c = s.backend(await startHttpNamed('C', { host: ip(14) }));
  const pen = s.pen(await penOn(ip(11), ['-O', 'prio', '-b', '30'],
    [prio(a.spec, 2), prio(specOf(dead), 1), prio(c.spec, 3)]));
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) seen.push(await whoAnswers(pen.endpoint, { localAddress: ip(100 + i) }));
  assert.deepEqual(seen, ['A', 'A', 'A', 'A']);
  assert.equal(c.requests, 0);
}));

test('prio: a full server (maxc) sends new clients to the next-best prio', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(22) }));
  const b = s.backend(await startBanner('B', { host: ip(23) }));
  const pen = s.pen(await penOn(ip(21), ['-O', 'prio'], [prio(a.spec, 1, 1), prio(b.spec, 2)]));
  const first = s.client((await holdOne(pen.endpoint, { localAddress: ip(100) })).client);
  assert.equal(a.open, 1);
  const second = await holdOne(pen.endpoint, { localAddress: ip(101) });
  s.client(second.client);
  assert.equal(second.server, 'B');
  first.destroy();
  await waitFor(() => a.open === 0, 3000, 'pen to close the connection to A');
  const third = await holdOne(pen.endpoint, { localAddress: ip(102) });
  s.client(third.client);
  assert.equal(third.server, 'A', 'A has room again and is the best prio');
}));
