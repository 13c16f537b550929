// The server table over the control socket, checked on the data plane: `servers` (Pen's line
// format, conn/sx/rx counting real traffic), `recent`, `server N` blacklist / address / port /
// max / hard / weight / prio, and the selection modes (roundrobin, hash, stubborn, weight, prio
// and their `no` forms) switched live: the next connections follow the new setting.
// Block 82 (see test/helpers/net.ts): .1/.11/... pen, backends next to it, clients .100-.130.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { closedPort, startBanner, startHttpNamed, type Backend } from '../../helpers/backends.js';
import { holdOne, httpGet, whoAnswers, type Client } from '../../helpers/clients.js';
import { command, penWithControl, servers, tallyRequests } from '../../helpers/control.js';
import { loopback } from '../../helpers/net.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';

const ip = loopback(82);

const portOf = (b: Backend): number => (b.endpoint as { port: number }).port;

/** Sets through the control socket; every setter replies nothing. */
async function set(ctl: { host: string; port: number }, ...lines: string[]): Promise<void> {
  for (const line of lines) assert.equal(await command(ctl, line), '', `reply to ${line}`);
}

/** Opens n connections to banner backends through pen and keeps them; returns who answered. */
async function hold(s: Scope, e: { host: string; port: number }, n: number, localAddress?: string): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = await holdOne(e, localAddress ? { localAddress } : {});
    s.client(h.client);
    names.push(h.server);
  }
  return names;
}

const count = (names: string[], n: string): number => names.filter((x) => x === n).length;

test('servers: Pen\'s line format; conn, sx and rx count the real traffic; recent counts per client', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const b = s.backend(await startBanner('B', { host: ip(3) }));
  const pen = s.pen(await penWithControl(ip(1), ['-r'], [a.spec, b.spec]));

  const held: Record<string, Client> = {};
  for (let i = 0; i < 2; i++) {
    const h = await holdOne(pen.endpoint, { localAddress: ip(100) });
    s.client(h.client);
    held[h.server] = h.client;
  }
  assert.deepEqual(Object.keys(held).sort(), ['A', 'B'], 'roundrobin: one connection each');
  let rows = await servers(pen.control);
  assert.deepEqual(rows.map((r) => [r.index, r.addr, r.port, r.conn]), [[0, ip(2), portOf(a), 1], [1, ip(3), portOf(b), 1]]);

  // Echo traffic: A gets 1000 bytes up and sends "A\n" + 1000 back; B 300 and "B\n" + 300.
  const sent = { A: 1000, B: 300 };
  for (const [name, n] of Object.entries(sent)) {
    const c = held[name]!;
    await c.write(Buffer.alloc(n, 0x61));
    await c.atLeast(2 + n, 3000);
  }
  rows = await servers(pen.control);
  assert.deepEqual(rows.map((r) => [r.sx, r.rx]), [[1000, 1002], [300, 302]], 'sx = bytes to the server, rx = from it');

  for (const c of Object.values(held)) c.destroy();
  await waitFor(async () => (await servers(pen.control)).every((r) => r.conn === 0), 3000, 'conn back to 0');
  rows = await servers(pen.control);
  assert.deepEqual(rows.map((r) => [r.conn, r.sx, r.rx]), [[0, 1000, 1002], [0, 300, 302]], 'totals stay after close');

  // recent: one line per client address: connects, bytes sent to it, bytes received from it.
  (await holdOne(pen.endpoint, { localAddress: ip(101) })).client.destroy();
  await waitFor(async () => (await command(pen.control, 'recent')).includes(ip(101)), 2000, 'the second client in recent');
  const recent = (await command(pen.control, 'recent')).split('\n').filter(Boolean);
  assert.ok(recent.includes(`${ip(100)} connects 2 sx 1304 rx 1300`), `recent: ${JSON.stringify(recent)}`);
  assert.ok(recent.some((l) => /^127\.0\.82\.101 connects 1 sx \d+ rx \d+$/.test(l)), `recent: ${JSON.stringify(recent)}`);
  assert.equal(await command(pen.control, 'recent 300'), await command(pen.control, 'recent'));
}));

test('server N blacklist T: traffic leaves server N for T seconds, blacklist 0 brings it back', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(13) }));
  const pen = s.pen(await penWithControl(ip(11), ['-r'], [a.spec, b.spec]));
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, B: 2 });

  await set(pen.control, 'server 0 blacklist 1');
  const t0 = performance.now();
  assert.deepEqual(await tallyRequests(pen.endpoint, 6), { B: 6 }, 'A is skipped while blacklisted');
  await sleep(Math.max(0, 1150 - (performance.now() - t0)));
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, B: 2 }, 'A is back after 1 s');

  await set(pen.control, 'server 1 blacklist 30');
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 4 });
  await set(pen.control, 'server 1 blacklist 0');
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, B: 2 }, 'blacklist 0 clears it at once');
  assert.equal(await command(pen.control, 'blacklist'), '30\n', 'the global blacklist time is untouched');
}));

test('server N address / port: a backend moves live; new slots and 0.0.0.0 (disabled) as Pen', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(23) }));
  // C on another address with B's port: `address` alone keeps the port. D next to B.
  const c = s.backend(await startHttpNamed('C', { host: ip(26), port: portOf(b) }));
  const d = s.backend(await startHttpNamed('D', { host: ip(23) }));
  const pen = s.pen(await penWithControl(ip(21), ['-r'], [a.spec, b.spec]));
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, B: 2 });

  await set(pen.control, `server 1 address ${ip(26)}`);
  const moved = (await servers(pen.control))[1]!;
  assert.deepEqual([moved.addr, moved.port], [ip(26), portOf(b)]);
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, C: 2 }, 'address: B is replaced by C (same port)');

  await set(pen.control, `server 1 address ${ip(23)} port ${portOf(d)}`);
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, D: 2 }, 'address + port: D');
  await set(pen.control, `server 1 port ${portOf(b)}`);
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, B: 2 }, 'port alone: back to B');

  // A third server, then a slot far beyond the table: refused without an address (a typo must
  // not grow the table); with one, the gap is filled with placeholders that are never chosen.
  await set(pen.control, `server 2 address ${ip(26)} port ${portOf(c)}`);
  assert.deepEqual(await tallyRequests(pen.endpoint, 6), { A: 2, B: 2, C: 2 }, 'a new server 2 gets its share');
  assert.match(await command(pen.control, 'server 4 blacklist 60'), /^pen: server: server 4 does not exist \(servers are 0\.\.2\)/);
  assert.equal((await servers(pen.control)).length, 3, 'the table did not grow');
  await set(pen.control, 'server 4 address 0.0.0.0 port 0');
  const rows = await servers(pen.control);
  assert.equal(rows.length, 5, 'server 4 grew the table to five lines');
  assert.deepEqual(rows.slice(3).map((r) => [r.addr, r.port]), [['0.0.0.0', 0], ['0.0.0.0', 0]]);
  const t = await tallyRequests(pen.endpoint, 6);
  assert.equal((t.A ?? 0) + (t.B ?? 0) + (t.C ?? 0), 6, `every request answered: ${JSON.stringify(t)}`);

  // Pen's way to disable a slot.
  await set(pen.control, 'server 1 address 0.0.0.0');
  const before = b.requests;
  const t2 = await tallyRequests(pen.endpoint, 6);
  assert.equal(b.requests, before, `server 1 disabled: ${JSON.stringify(t2)}`);
  assert.deepEqual(Object.keys(t2).sort(), ['A', 'C']);
  assert.equal(d.requests, 2);
}));

test('server N max / hard: the soft limit sends new clients elsewhere; hard admits returning clients up to it', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(32) }));
  const b = s.backend(await startBanner('B', { host: ip(33) }));
  const pen = s.pen(await penWithControl(ip(31), ['-r'], [a.spec, b.spec]));

  await set(pen.control, 'server 0 max 1');
  let got = await hold(s, pen.endpoint, 4);
  assert.deepEqual([count(got, 'A'), count(got, 'B')], [1, 3], `max 1: ${got.join(',')}`);
  await set(pen.control, 'server 0 max 3');
  got = await hold(s, pen.endpoint, 6);
  assert.equal(a.open, 3, `max 3 raised live: A holds 3 (${got.join(',')})`);
  assert.equal(b.open, 7);
  const row = (await servers(pen.control))[0]!;
  assert.deepEqual([row.max, row.hard, row.conn], [3, 0, 3]);
}));

test('server N hard: with client tracking, a returning client may exceed max up to hard', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(42) }));
  const b = s.backend(await startBanner('B', { host: ip(43) }));
  const pen = s.pen(await penWithControl(ip(41), [], [a.spec, b.spec]));
  // Make client .100 remember A: B is blacklisted for its first connection.
  await set(pen.control, 'server 1 blacklist 30');
  assert.deepEqual(await hold(s, pen.endpoint, 1, ip(100)), ['A']);
  await set(pen.control, 'server 1 blacklist 0', 'server 0 max 1 hard 3');
  assert.deepEqual(await hold(s, pen.endpoint, 2, ip(100)), ['A', 'A'], 'returning client: admitted up to hard 3');
  assert.deepEqual(await hold(s, pen.endpoint, 2, ip(101)), ['B', 'B'], 'a new client is held to max 1');
  assert.deepEqual(await hold(s, pen.endpoint, 1, ip(100)), ['B'], 'hard 3 reached: the returning client fails over');
  const row = (await servers(pen.control))[0]!;
  assert.deepEqual([row.max, row.hard, row.conn], [1, 3, 3]);
}));

test('weight and server N weight: least connections per weight, weights changed live; no weight', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(52) }));
  const b = s.backend(await startBanner('B', { host: ip(53) }));
  const pen = s.pen(await penWithControl(ip(51), ['-r'], [a.spec, b.spec]));
  await set(pen.control, 'weight', 'server 0 weight 3', 'server 1 weight 1');
  assert.equal(await command(pen.control, 'mode'), 'no hash roundrobin no stubborn weight no prio\n');
  const first = await hold(s, pen.endpoint, 8);
  assert.deepEqual([count(first, 'A'), count(first, 'B')], [6, 2], `weights 3:1 -> ${first.join(',')}`);
  await set(pen.control, 'server 1 weight 3');
  const next = await hold(s, pen.endpoint, 4);
  assert.deepEqual(next, ['B', 'B', 'B', 'B'], 'B catches up once its weight is 3');
  const rows = await servers(pen.control);
  assert.deepEqual(rows.map((r) => [r.weight, r.conn]), [[3, 6], [3, 6]]);
  await set(pen.control, 'no weight');
  const rr = await hold(s, pen.endpoint, 4);
  assert.deepEqual([count(rr, 'A'), count(rr, 'B')], [2, 2], 'no weight: roundrobin again');
}));

test('prio and server N prio: all traffic to the lowest prio, switched live; no prio', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(62) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(63) }));
  const pen = s.pen(await penWithControl(ip(61), ['-r'], [a.spec, b.spec]));
  await set(pen.control, 'prio', 'server 0 prio 2', 'server 1 prio 1');
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { B: 4 });
  await set(pen.control, 'server 1 prio 3');
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 4 });
  assert.deepEqual((await servers(pen.control)).map((r) => r.prio), [2, 3]);
  await set(pen.control, 'server 0 blacklist 30');
  assert.deepEqual(await tallyRequests(pen.endpoint, 2), { B: 2 }, 'the lowest prio that is available');
  await set(pen.control, 'server 0 blacklist 0', 'no prio');
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 2, B: 2 });
}));

test('roundrobin / no roundrobin / hash / no hash: the next connections follow the mode', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(72) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(73) }));
  const c = s.backend(await startHttpNamed('C', { host: ip(74) }));
  const pen = s.pen(await penWithControl(ip(71), ['-r'], [a.spec, b.spec, c.spec]));
  const from = (n: number) => ({ localAddress: ip(n) });

  assert.deepEqual(await tallyRequests(pen.endpoint, 6, from(100)), { A: 2, B: 2, C: 2 }, 'roundrobin');
  await set(pen.control, 'no roundrobin');
  const t1 = await tallyRequests(pen.endpoint, 4, from(101));
  assert.equal(Object.keys(t1).length, 1, `tracking: client .101 sticks to one server ${JSON.stringify(t1)}`);
  await set(pen.control, 'roundrobin');
  assert.deepEqual(await tallyRequests(pen.endpoint, 6, from(101)), { A: 2, B: 2, C: 2 }, 'roundrobin again');

  // hash (tracking on): Pen's IPv4 hash of 127.0.82.x over 3 servers is (2 + x) mod 3, so
  // .103, .106, .109 and .112 all hash to server 0 (A); roundrobin would have spread them.
  await set(pen.control, 'no roundrobin', 'hash');
  assert.equal(await command(pen.control, 'mode'), 'hash no roundrobin no stubborn no weight no prio\n');
  const hashed: string[] = [];
  for (const n of [103, 106, 109, 112]) hashed.push(await whoAnswers(pen.endpoint, from(n)));
  assert.deepEqual(hashed, ['A', 'A', 'A', 'A'], 'hash: the client address decides');
  const other: string[] = [];
  for (const n of [104, 105]) other.push(await whoAnswers(pen.endpoint, from(n)));
  assert.deepEqual(other, ['B', 'C']);
  await set(pen.control, 'no hash', 'roundrobin');
  assert.deepEqual(await tallyRequests(pen.endpoint, 6, from(103)), { A: 2, B: 2, C: 2 }, 'no hash: roundrobin');
}));

test('stubborn / no stubborn: a tracked client whose server fails is closed, or failed over', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(82) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(83) }));
  const dead = await closedPort(ip(84)) as { host: string; port: number };
  const pen = s.pen(await penWithControl(ip(81), [], [a.spec, b.spec]));
  const x = { localAddress: ip(120) };
  const home = await whoAnswers(pen.endpoint, x);
  const index = home === 'A' ? 0 : 1;
  assert.equal(await whoAnswers(pen.endpoint, x), home, 'tracked');

  await set(pen.control, 'stubborn', `server ${index} address ${dead.host} port ${dead.port}`);
  assert.equal(await command(pen.control, 'mode'), 'no hash no roundrobin stubborn no weight no prio\n');
  await assert.rejects(httpGet(pen.endpoint, { ...x, timeoutMs: 3000 }), /no HTTP answer|closed|reset|ECONNRESET/,
    'stubborn: no failover, the client is closed');
  await set(pen.control, 'no stubborn');
  assert.equal(await whoAnswers(pen.endpoint, x), home === 'A' ? 'B' : 'A', 'no stubborn: failed over');
}));

test('blacklist N: how long a failed server is skipped, set before a failure and (Pen) during one', () => scoped(async (s) => {
  // Two pens side by side, so that the two one-second waits overlap.
  const before = async (): Promise<void> => {
    const dead = await closedPort(ip(92)) as { host: string; port: number };
    const b = s.backend(await startHttpNamed('B', { host: ip(93) }));
    const pen = s.pen(await penWithControl(ip(91), ['-r'], [`${dead.host}:${dead.port}`, b.spec]));
    assert.equal(await command(pen.control, 'blacklist 1'), '1\n');
    assert.deepEqual(await tallyRequests(pen.endpoint, 2), { B: 2 }, 'server 0 refuses: failed over, and blacklisted');
    const x = s.backend(await startHttpNamed('X', { host: dead.host, port: dead.port }));
    assert.deepEqual(await tallyRequests(pen.endpoint, 4), { B: 4 }, 'still blacklisted although it is back');
    await sleep(1200);
    assert.deepEqual(await tallyRequests(pen.endpoint, 4), { B: 2, X: 2 }, 'blacklist 1: back after a second');
    assert.equal(x.requests, 2);
  };
  const during = async (): Promise<void> => {
    const dead = await closedPort(ip(95)) as { host: string; port: number };
    const b = s.backend(await startHttpNamed('B', { host: ip(96) }));
    const pen = s.pen(await penWithControl(ip(94), ['-r'], [`${dead.host}:${dead.port}`, b.spec]));
    assert.deepEqual(await tallyRequests(pen.endpoint, 2), { B: 2 }, 'server 0 failed: blacklisted for the default 30 s');
    s.backend(await startHttpNamed('X', { host: dead.host, port: dead.port }));
    assert.equal(await command(pen.control, 'blacklist 1'), '1\n');
    await sleep(1200);
    assert.deepEqual(await tallyRequests(pen.endpoint, 4), { B: 2, X: 2 },
      'blacklist 1 while server 0 is blacklisted: spec/selection.md §6 "Changing blacklist_time retroactively ' +
      'changes all current blacklists", so it is used again a second later');
  };
  const [r1, r2] = await Promise.allSettled([before(), during()]);
  if (r1.status === 'rejected') throw r1.reason;
  if (r2.status === 'rejected') throw r2.reason;
}));

test('tracking N: a client is remembered for N seconds, then chosen afresh', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(142) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(143) }));
  const pen = s.pen(await penWithControl(ip(141), [], [a.spec, b.spec]));
  const x = { localAddress: ip(150) };
  assert.equal(await command(pen.control, 'tracking 1'), '1\n');
  await set(pen.control, 'server 1 blacklist 30');
  assert.equal(await whoAnswers(pen.endpoint, x), 'A', 'the client meets A first');
  // prio now prefers B, but a tracked client goes back to its server while it is remembered.
  await set(pen.control, 'server 1 blacklist 0', 'prio', 'server 0 prio 2', 'server 1 prio 1');
  assert.equal(await whoAnswers(pen.endpoint, x), 'A', 'remembered: back to A');
  assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(151) }), 'B', 'a new client follows prio');
  await sleep(1300);
  assert.equal(await whoAnswers(pen.endpoint, x), 'B', 'after tracking 1 s the client is chosen afresh (prio: B)');
}));
