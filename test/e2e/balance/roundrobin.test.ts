// Roundrobin (-r): consecutive connections cycle over the servers in index order, starting
// at server 0 (pen's choice; Pen started at 1), and the client table is not consulted.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { tally, whoAnswers } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';

const ip = loopback(11);

test('roundrobin: 2 servers, 10 requests from one client alternate 5/5 starting at server 0', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
  const pen = s.pen(await penOn(ip(1), ['-r'], [a.spec, b.spec]));
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) seen.push(await whoAnswers(pen.endpoint, { localAddress: ip(100) }));
  assert.deepEqual(seen, ['A', 'B', 'A', 'B', 'A', 'B', 'A', 'B', 'A', 'B']);
  assert.equal(a.requests, 5);
  assert.equal(b.requests, 5);
}));

test('roundrobin: 3 servers cycle 0,1,2 whatever the client address', () => scoped(async (s) => {
  const bs = [
    s.backend(await startHttpNamed('A', { host: ip(12) })),
    s.backend(await startHttpNamed('B', { host: ip(13) })),
    s.backend(await startHttpNamed('C', { host: ip(14) })),
  ];
  const pen = s.pen(await penOn(ip(11), ['-r'], bs.map((b) => b.spec)));
  const seen: string[] = [];
  for (let i = 0; i < 9; i++) seen.push(await whoAnswers(pen.endpoint, { localAddress: ip(100 + (i % 2)) }));
  assert.deepEqual(seen, ['A', 'B', 'C', 'A', 'B', 'C', 'A', 'B', 'C']);
  assert.deepEqual(tally(seen), { A: 3, B: 3, C: 3 });
}));
