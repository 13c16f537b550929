// Client tracking (default when -r is off): a client IP goes back to the server it used last;
// new client IPs are balanced (roundrobin). -T N forgets a client after N idle seconds (pen
// treats the expired entry as unknown, spec/selection.md "Expiry quirk"); -c N bounds the
// table with LRU eviction.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { tally, whoAnswers } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { sleep } from '../../helpers/time.js';

const ip = loopback(12);

test('tracking: the same client IP always reaches the same server', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(3) }));
  const pen = s.pen(await penOn(ip(1), [], [a.spec, b.spec]));
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push(await whoAnswers(pen.endpoint, { localAddress: ip(100) }));
  assert.deepEqual(seen, ['A', 'A', 'A', 'A', 'A', 'A']);
  assert.equal(b.requests, 0);
}));

test('tracking: different client IPs spread over the servers and each stays put', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(13) }));
  const pen = s.pen(await penOn(ip(11), [], [a.spec, b.spec]));
  const clients = [101, 102, 103, 104, 105, 106, 107, 108].map((n) => ip(n));
  const first: string[] = [];
  for (const c of clients) first.push(await whoAnswers(pen.endpoint, { localAddress: c }));
  assert.deepEqual(tally(first), { A: 4, B: 4 }, `first round: ${first.join(',')}`);
  const second: string[] = [];
  for (const c of [...clients].reverse()) second.push(await whoAnswers(pen.endpoint, { localAddress: c }));
  assert.deepEqual(second.reverse(), first, 'every client went back to its server');
}));

test('tracking: -T 1 forgets a client after one idle second', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(23) }));
  const pen = s.pen(await penOn(ip(21), ['-T', '1'], [a.spec, b.spec]));
  const x = { localAddress: ip(100) };
  assert.equal(await whoAnswers(pen.endpoint, x), 'A');
  assert.equal(await whoAnswers(pen.endpoint, x), 'A', 'still tracked within the tracking time');
  await sleep(1400);
  // Expired: an unknown client again, so roundrobin's next server, not the remembered one.
  assert.equal(await whoAnswers(pen.endpoint, x), 'B');
  assert.equal(await whoAnswers(pen.endpoint, x), 'B', 'tracked again on its new server');
}));

test('tracking: -c 2 evicts the least recently seen client', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(32) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(33) }));
  const pen = s.pen(await penOn(ip(31), ['-c', '2'], [a.spec, b.spec]));
  const [x, y, z] = [ip(101), ip(102), ip(103)];
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: x }), 'A');
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: y }), 'B');
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: z }), 'A'); // evicts x
  // x was forgotten: balanced as a new client (next in the cycle), not sent back to A.
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: x }), 'B');
}));
