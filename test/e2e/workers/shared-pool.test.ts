// `workers 2`: several data-plane threads, each accepting on its own SO_REUSEPORT socket, share
// one balancing state (spec/beyond-pen.md "Multi-core data plane"): a tracked client keeps its
// server whichever worker accepts it, blacklists / weights / `server N` act on every worker,
// limits hold for the whole process, connection numbers stay unique (and below conn_max, as
// Pen's), and a second pen cannot take the port. The status page says how many clients each
// worker took on: the kernel's spread.
// Block 131 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { startBanner, startHttpNamed } from '../../helpers/backends.js';
import { holdOne } from '../../helpers/clients.js';
import { command, penWithControl, servers, tallyRequests } from '../../helpers/control.js';
import { loopback, removeDir, tempDir, type Endpoint } from '../../helpers/net.js';
import { penOn, runPen, threadNames } from '../../helpers/pen.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(134);
const TWO = ['-O', 'workers 2'];

async function holdMany(s: Scope, e: Endpoint, n: number, from: (i: number) => string): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = await holdOne(e, { localAddress: from(i) });
    s.client(h.client);
    names.push(h.server);
  }
  return names;
}

/** The clients each worker accepted, from the status page (`status` with -w). */
async function acceptedByWorker(control: Endpoint): Promise<number[]> {
  const page = await command(control, 'status');
  const m = /(\d+) workers, clients accepted: ([\d, ]+)/.exec(page);
  assert.ok(m, `the status page shows the workers: ${page.slice(-400)}`);
  return m[2]!.split(', ').map(Number);
}

/** The numbers of the open connections (Pen's `connection N` for N below limit). */
async function openConnections(control: Endpoint, limit: number): Promise<number[]> {
  const open: number[] = [];
  for (let n = 0; n < limit; n++) {
    const reply = await command(control, `connection ${n}`);
    if (!/state = 0\n/.test(reply)) open.push(n);
  }
  return open;
}

test('workers 2: a tracked client sticks to its server on whichever worker accepts it', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const b = s.backend(await startBanner('B', { host: ip(3) }));
  const dir = tempDir('workers-status');
  s.defer(() => removeDir(dir));
  const pen = s.pen(await penWithControl(ip(1), [...TWO, '-x', '32', '-w', path.join(dir, 'status.html')], [a.spec, b.spec]));
  assert.equal(await command(pen.control, 'workers'), '2\n');
  const names = await holdMany(s, pen.endpoint, 16, () => ip(100));
  assert.deepEqual(new Set(names).size, 1, `one server for one client: ${names.join(',')}`);
  const ids = await openConnections(pen.control, 32);
  assert.deepEqual(ids, Array.from({ length: 16 }, (_, i) => i), 'numbers 0..15: unique and as low as Pen\'s');
  const spread = await acceptedByWorker(pen.control);
  assert.equal(spread.length, 2);
  assert.equal(spread[0]! + spread[1]!, 16);
  assert.ok(spread[0]! > 0 && spread[1]! > 0, `both workers accepted some: ${spread.join(', ')}`);
  // A second client IP is balanced to the other server and sticks there too.
  const other = await holdMany(s, pen.endpoint, 8, () => ip(101));
  assert.deepEqual(new Set(other).size, 1);
  assert.notEqual(other[0], names[0]);
}));

test('workers 2: blacklist, weight and server N changes act on every worker', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const b = s.backend(await startHttpNamed('B', { host: ip(13) }));
  const c = s.backend(await startHttpNamed('C', { host: ip(14) }));
  const pen = s.pen(await penWithControl(ip(11), [...TWO, '-r'], [a.spec, b.spec]));
  assert.deepEqual(await tallyRequests(pen.endpoint, 40), { A: 20, B: 20 }, 'roundrobin is fair over both workers');
  assert.equal(await command(pen.control, 'server 0 blacklist 60'), '');
  assert.deepEqual(await tallyRequests(pen.endpoint, 20), { B: 20 });
  assert.equal(await command(pen.control, `server 0 address ${ip(14)} port ${c.spec.split(":")[1]}`), '');
  assert.equal(await command(pen.control, 'server 0 blacklist 0'), '');
  assert.deepEqual(await tallyRequests(pen.endpoint, 20), { B: 10, C: 10 }, 'the new address on both workers');
  const rows = await servers(pen.control);
  assert.equal(rows[0]!.addr, ip(14));
  assert.ok(rows[0]!.sx > 0 && rows[1]!.sx > 0, 'byte counters are the sum over the workers');
}));

test('workers 2: a server\'s hard limit holds for the whole process', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(22) }));
  const b = s.backend(await startBanner('B', { host: ip(23) }));
  // Every connection from one client IP: tracked to A, which takes 2 (soft) and 4 (hard).
  const pen = s.pen(await penOn(ip(21), TWO, [`${a.spec}:2:4`, b.spec]));
  const clients = await Promise.all(Array.from({ length: 24 }, () => holdOne(pen.endpoint, { localAddress: ip(100) })));
  for (const h of clients) s.client(h.client);
  const onA = clients.filter((h) => h.server === 'A').length;
  assert.equal(onA, 4, `A took exactly its hard limit (${onA}), not 4 per worker`);
  assert.equal(a.open, 4);
  assert.equal(b.open, 20);
}));

test('workers 2: conn_max (-x) holds for the whole process', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(32) }));
  const pen = s.pen(await penWithControl(ip(31), [...TWO, '-x', '6'], [a.spec]));
  const held = await holdMany(s, pen.endpoint, 6, (i) => ip(100 + i));
  assert.equal(held.length, 6);
  // The seventh waits in the backlog (no worker accepts it) until one closes.
  const late = holdOne(pen.endpoint, { localAddress: ip(120), timeoutMs: 8000 });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(a.open, 6, 'no seventh connection reached the backend');
  assert.equal((await servers(pen.control))[0]!.conn, 6, '`servers` counts the whole process');
  s.defer(async () => (await late.catch(() => null))?.client.destroy());
  // Free one slot: the waiting client gets in.
  const ids = await openConnections(pen.control, 6);
  assert.equal(await command(pen.control, `close ${ids[0]}`), `Forcibly closing connection ${ids[0]}\n`);
  const h = await late;
  assert.equal(h.server, 'A');
}));

test('workers 2: a second pen on the same port fails with "address in use"', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(42) }));
  const pen = s.pen(await penOn(ip(41), TWO, [a.spec]));
  for (const workers of ['1', '2']) {
    const r = await runPen(['-f', '-O', `workers ${workers}`, `${pen.endpoint.host}:${pen.endpoint.port}`, a.spec]);
    assert.notEqual(r.code, 0, `workers ${workers}: exit status`);
    assert.match(r.stderr, /address already in use/i, `workers ${workers}: ${r.stderr}`);
  }
  assert.deepEqual(await tallyRequests(pen.endpoint, 4), { A: 4 }, 'the first pen keeps serving');
}));

test('workers 2: the data-plane threads are named pen-tcp-0 and pen-tcp-1 (ps -L, top -H)',
  { skip: process.platform === 'linux' ? false : 'reads /proc' }, () => scoped(async (s) => {
    const a = s.backend(await startHttpNamed('A', { host: ip(72) }));
    const pen = s.pen(await penOn(ip(71), TWO, [a.spec]));
    await waitFor(() => threadNames(pen.pid).filter((n) => n.startsWith('pen-')).length === 2, 5000, 'named threads');
    assert.deepEqual(threadNames(pen.pid).filter((n) => n.startsWith('pen-')), ['pen-tcp-0', 'pen-tcp-1']);
  }));

test('workers: set at start-up only; auto means one per CPU', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(52) }));
  const pen = s.pen(await penWithControl(ip(51), ['-O', 'workers auto'], [a.spec]));
  assert.equal(await command(pen.control, 'workers'), `${os.availableParallelism()}\n`);
  assert.match(await command(pen.control, 'workers 3'), /restart pen/);
  assert.equal(await command(pen.control, 'workers'), `${os.availableParallelism()}\n`);
  assert.match(await command(pen.control, 'workers 0'), /1 to 256/);
  assert.deepEqual(await tallyRequests(pen.endpoint, 3), { A: 3 });
}));

test('workers: `write` saves it, -F restores it, and a HUP that changes it keeps the running value', () => scoped(async (s) => {
  const dir = tempDir('workers');
  s.defer(() => removeDir(dir));
  const file = path.join(dir, 'pen.cfg');
  const a = s.backend(await startHttpNamed('A', { host: ip(62) }));
  const first = s.pen(await penWithControl(ip(61), TWO, [a.spec]));
  assert.equal(await command(first.control, `write ${file}`), '');
  assert.match(fs.readFileSync(file, 'utf8'), /^workers 2$/m);
  await first.stop();
  // The file's own listen line would move the listener; this pen listens where the test says.
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^listen .*\n/m, ''));
  const second = s.pen(await penWithControl(ip(63), ['-F', file], []));
  assert.equal(await command(second.control, 'workers'), '2\n');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^workers 2$/m, 'workers 3'));
  process.kill(second.pid, 'SIGHUP');
  await waitFor(() => /workers can only change at start-up/.test(second.stdout() + second.stderr()), 5000,
    'the reload to refuse the new workers value');
  assert.equal(await command(second.control, 'workers'), '2\n');
  assert.deepEqual(await tallyRequests(second.endpoint, 2), { A: 2 });
}));
