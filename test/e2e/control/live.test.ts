// Global settings changed over the control socket while pen runs, each checked on the data
// plane: conn_max (clients waiting for a slot are served once it grows), clients_max,
// pending_max, idle_timeout (also for connections already open), tcp_nodelay and keepalive
// (read back from pen's backend sockets), tcp_fastclose, source, debug; the connection table
// views `connection N` / `socket N` and `close N` on a live connection; `listen ADDR` moving
// the listener live, and refusing bad addresses while the old listener keeps serving.
// Block 84 (see test/helpers/net.ts): pens on .1/.11/..., backends next to them, clients .100+.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { startAfterEof, startBanner, startHttpNamed, startHungListener } from '../../helpers/backends.js';
import { connect, holdOne, whoAnswers, type Client } from '../../helpers/clients.js';
import { command, penWithControl, type ControlPen } from '../../helpers/control.js';
import { freePort, loopback } from '../../helpers/net.js';
import { socketOptions } from '../../helpers/sockopt.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor, withTimeout } from '../../helpers/time.js';

const ip = loopback(84);

type Where = { host: string; port: number };

async function set(ctl: Where, ...lines: string[]): Promise<void> {
  for (const line of lines) assert.equal(await command(ctl, line), '', `reply to ${line}`);
}

interface ConnView {
  id: number;
  state: number;
  downfd: number;
  upfd: number;
  client: string;
  server: number;
  pend: number;
}

const CONNECTION = /^Connection (\d+):\nstate = (\d+)\ndownfd = (-?\d+), upfd = (-?\d+)\nclient = (\S+), server = (-?\d+)\npend = (\d+)\n$/;

/** `connection N` parsed (throws when the reply is not the five-line format). */
async function connection(pen: ControlPen, n: number): Promise<ConnView> {
  const text = await command(pen.control, `connection ${n}`);
  const m = CONNECTION.exec(text);
  if (!m) throw new Error(`connection ${n}: not Pen's five-line format: ${JSON.stringify(text)}`);
  return { id: Number(m[1]), state: Number(m[2]), downfd: Number(m[3]), upfd: Number(m[4]), client: m[5]!,
    server: Number(m[6]), pend: Number(m[7]) };
}

/** The connection table slots 0..n-1 that are in use. */
async function liveConnections(pen: ControlPen, n: number): Promise<ConnView[]> {
  const out: ConnView[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connection(pen, i);
    if (c.state !== 0) out.push(c);
  }
  return out;
}

test('conn_max grows live: clients waiting for a slot are served at once', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(2) }));
  const pen = s.pen(await penWithControl(ip(1), ['-x', '1'], [a.spec]));
  s.client((await holdOne(pen.endpoint)).client);
  const waiting: Client[] = [];
  for (let i = 0; i < 2; i++) waiting.push(s.client(await connect(pen.endpoint)));
  await sleep(300);
  assert.deepEqual(waiting.map((w) => w.received), [0, 0], 'the table is full: they wait');
  assert.equal(await command(pen.control, 'conn_max'), '1\n');
  const t0 = performance.now();
  assert.equal(await command(pen.control, 'conn_max 3'), '3\n');
  for (const w of waiting) assert.equal(await w.line(2000), 'A');
  assert.ok(performance.now() - t0 < 1500, `served ${Math.round(performance.now() - t0)} ms after conn_max grew`);
  assert.equal(a.open, 3);
  assert.equal(await command(pen.control, 'conn_max 2'), '3\n', 'it does not shrink');
}));

test('clients_max grows live: the client table (recent) holds more clients', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
  const pen = s.pen(await penWithControl(ip(11), ['-c', '2'], [a.spec]));
  const recentCount = async () => (await command(pen.control, 'recent')).split('\n').filter(Boolean).length;
  for (const n of [100, 101, 102]) await whoAnswers(pen.endpoint, { localAddress: ip(n) });
  assert.equal(await recentCount(), 2, 'clients_max 2: the oldest client was replaced');
  assert.equal(await command(pen.control, 'clients_max 8'), '8\n');
  for (const n of [103, 104, 105]) await whoAnswers(pen.endpoint, { localAddress: ip(n) });
  assert.equal(await recentCount(), 5, 'after growing to 8 the new clients are all kept');
}));

test('timeout and pending_max set live: the connect timeout; pending_max 1 holds new clients back while a connect is pending, raised it does not', async (t) => {
  await scoped(async (s) => {
    const hung = await startHungListener(ip(22));
    if (!hung) {
      t.skip('cannot make a listener whose connects hang (python3 missing?)');
      return;
    }
    s.defer(() => hung.close());
    const a = s.backend(await startHttpNamed('A', { host: ip(23) }));
    const pen = s.pen(await penWithControl(ip(21), ['-r'], [hung.spec, a.spec]));
    assert.equal(await command(pen.control, 'timeout 1'), '1\n');
    await set(pen.control, 'pending_max 1');
    assert.equal(await command(pen.control, 'pending_max'), '1\n');
    let t0 = performance.now();
    const first = whoAnswers(pen.endpoint, { localAddress: ip(100), timeoutMs: 6000 }).then((n) => ({ n, at: performance.now() - t0 }));
    await sleep(150);
    const second = whoAnswers(pen.endpoint, { localAddress: ip(101), timeoutMs: 6000 }).then((n) => ({ n, at: performance.now() - t0 }));
    const [r1, r2] = await Promise.all([first, second]);
    assert.equal(r1.n, 'A', 'the first client failed over after the connect timeout');
    assert.ok(r1.at >= 850 && r1.at < 2500, `timeout 1 (not the default 3): failed over after ${r1.at} ms`);
    assert.equal(r2.n, 'A');
    assert.ok(r2.at >= 850, `pending_max 1: the second client waited for the pending connect (${r2.at} ms)`);

    await set(pen.control, 'pending_max 50');
    t0 = performance.now();
    const third = whoAnswers(pen.endpoint, { localAddress: ip(102), timeoutMs: 6000 });
    third.catch(() => undefined);
    await sleep(150);
    assert.equal(await whoAnswers(pen.endpoint, { localAddress: ip(103) }), 'A');
    assert.ok(performance.now() - t0 < 900, 'pending_max 50: served before the other connect timed out (1 s)');
    assert.equal(await third, 'A');
  });
});

test('idle_timeout set live closes idle connections, including ones opened before; 0 turns it off', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(32) }));
  const pen = s.pen(await penWithControl(ip(31), ['-t', '1'], [a.spec]));
  const early = s.client((await holdOne(pen.endpoint)).client);
  assert.equal(await command(pen.control, 'idle_timeout 1'), 'Idle timeout: 1 seconds\n');
  const late = s.client((await holdOne(pen.endpoint)).client);
  await withTimeout(Promise.all([early.ended, late.ended]), 3500, 'idle connections to be closed after 1 s');

  assert.equal(await command(pen.control, 'idle_timeout 0'), 'Idle timeout: 0 seconds\n');
  const kept = s.client((await holdOne(pen.endpoint)).client);
  await sleep(1600);
  assert.equal(kept.eof, false, 'idle_timeout 0: the idle connection stays');
  await kept.write('still here\n');
  assert.equal(await kept.line(2000), 'still here');
}));

test('tcp_nodelay and keepalive reach the backend sockets pen opens next; no forms turn them off; socket N', async (t) => {
  await scoped(async (s) => {
    const a = s.backend(await startBanner('A', { host: ip(42) }));
    const pen = s.pen(await penWithControl(ip(41), ['-x', '8'], [a.spec]));
    const upfdOfNew = async (): Promise<number> => {
      const before = new Set((await liveConnections(pen, 8)).map((c) => c.upfd));
      s.client((await holdOne(pen.endpoint)).client);
      const now = (await liveConnections(pen, 8)).filter((c) => !before.has(c.upfd));
      assert.equal(now.length, 1);
      return now[0]!.upfd;
    };
    const plain = await upfdOfNew();
    await set(pen.control, 'tcp_nodelay', 'keepalive');
    const tuned = await upfdOfNew();
    await set(pen.control, 'no tcp_nodelay', 'no keepalive');
    const again = await upfdOfNew();

    for (const fd of [plain, tuned, again]) {
      const c = (await liveConnections(pen, 8)).find((x) => x.upfd === fd)!;
      assert.equal(await command(pen.control, `socket ${fd}`), `Socket ${fd} belongs to connection ${c.id}\n`);
      assert.equal(await command(pen.control, `socket ${c.downfd}`), `Socket ${c.downfd} belongs to connection ${c.id}\n`);
    }
    const opts = await socketOptions(pen.pid, [plain, tuned, again]);
    if (!opts) {
      t.skip('cannot read another process\'s socket options here (needs python3, Linux >= 5.6, ptrace rights)');
      return;
    }
    assert.deepEqual(opts.get(plain), { nodelay: false, keepalive: false }, 'defaults: both off');
    assert.deepEqual(opts.get(tuned), { nodelay: true, keepalive: true }, 'after tcp_nodelay + keepalive');
    assert.deepEqual(opts.get(again), { nodelay: false, keepalive: false }, 'after the no forms');
  });
});

test('connection N shows live connections in Pen\'s five-line format (client = the client table index)', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(52) }));
  const pen = s.pen(await penWithControl(ip(51), ['-x', '6'], [a.spec]));
  for (const n of [100, 101]) s.client((await holdOne(pen.endpoint, { localAddress: ip(n) })).client);
  const live = await liveConnections(pen, 6);
  assert.equal(live.length, 2);
  for (const c of live) {
    assert.equal(c.state, 2, 'connected');
    assert.ok(c.downfd >= 0 && c.upfd >= 0 && c.downfd !== c.upfd);
    assert.equal(c.server, 0);
    assert.equal(c.pend, 0);
  }
  // Pen prints the client *table index* here (`client = %d`, spec/penctl.md §2).
  for (const c of live) assert.match(c.client, /^-?\d+$/, `connection ${c.id}: client = ${c.client} is not Pen's %d`);
}));

test('close N on a live connection: the client and the server see it closed; others are untouched', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(57) }));
  const pen = s.pen(await penWithControl(ip(56), ['-x', '6'], [a.spec]));
  const first = s.client((await holdOne(pen.endpoint)).client);
  const before = new Set((await liveConnections(pen, 6)).map((c) => c.id));
  const victim = s.client((await holdOne(pen.endpoint)).client);
  const target = (await liveConnections(pen, 6)).find((c) => !before.has(c.id))!;
  assert.ok(target, 'the new connection is in the table');

  assert.equal(await command(pen.control, `close ${target.id}`), `Forcibly closing connection ${target.id}\n`);
  await withTimeout(victim.ended, 1500, 'the client of the closed connection to see it closed');
  await waitFor(() => a.open === 1, 1500, 'the backend side to be closed too');
  assert.equal((await connection(pen, target.id)).state, 0, 'the slot is free');
  await first.write('ping\n');
  assert.equal(await first.line(2000), 'ping', 'the other connection still relays');
  // An unused slot: same reply, nothing happens.
  assert.equal(await command(pen.control, `close ${target.id}`), `Forcibly closing connection ${target.id}\n`);
  await first.write('pong\n');
  assert.equal(await first.line(2000), 'pong');
  assert.equal(await command(pen.control, 'close 6'), 'Connection 6 out of range\n');
}));

test('tcp_fastclose both / off: a client half-close closes both sides at once, or keeps the answer coming', () => scoped(async (s) => {
  const late = s.backend(await startAfterEof('L', { host: ip(62) }, () => 'late answer', { delayMs: 200 }));
  const pen = s.pen(await penWithControl(ip(61), [], [late.spec]));
  const ask = async (): Promise<string> => {
    const c = s.client(await connect(pen.endpoint));
    c.end('question');
    return (await c.readToEnd(3000)).toString();
  };
  assert.equal(await ask(), 'late answer', 'off (default): the answer after the half-close arrives');
  await set(pen.control, 'tcp_fastclose both');
  assert.equal(await ask(), '', 'both: the client\'s EOF closes the connection');
  await set(pen.control, 'tcp_fastclose up');
  assert.equal(await ask(), 'late answer', 'up: only the server\'s EOF closes early');
  await set(pen.control, 'tcp_fastclose off');
  assert.equal(await ask(), 'late answer');
}));

test('source IP: new backend connections come from IP; no source: from the system\'s choice', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(72) }));
  const pen = s.pen(await penWithControl(ip(71), [], [a.spec]));
  await set(pen.control, `source ${ip(79)}`);
  await whoAnswers(pen.endpoint);
  assert.equal(a.peers.at(-1), ip(79));
  await set(pen.control, 'no source');
  await whoAnswers(pen.endpoint);
  assert.notEqual(a.peers.at(-1), ip(79));
}));

test('debug N set live changes what pen logs', () => scoped(async (s) => {
  const a = s.backend(await startHttpNamed('A', { host: ip(77) }));
  const pen = s.pen(await penWithControl(ip(76), [], [a.spec]));
  await whoAnswers(pen.endpoint);
  await sleep(100);
  const quiet = pen.stderr().length;
  assert.equal(await command(pen.control, 'debug 2'), '2\n');
  await whoAnswers(pen.endpoint);
  await waitFor(() => pen.stderr().length > quiet, 1500,
    `pen to log at debug 2 (stderr so far: ${JSON.stringify(pen.stderr().slice(-300))})`).catch((e: Error) => {
    throw new Error(`debug 2 over the control socket logs nothing more: ${e.message}`);
  });
  assert.equal(await command(pen.control, 'debug 0'), '0\n');
  await sleep(100);
  const loud = pen.stderr().length;
  await whoAnswers(pen.endpoint);
  await sleep(200);
  assert.equal(pen.stderr().length, loud, 'debug 0: quiet again');
}));

test('listen ADDR re-opens the listener live; bad addresses are refused and the old listener keeps serving', () => scoped(async (s) => {
  const a = s.backend(await startBanner('A', { host: ip(82) }));
  const pen = s.pen(await penWithControl(ip(81), [], [a.spec]));
  const held = s.client((await holdOne(pen.endpoint)).client);
  const oldSpec = `${ip(81)}:${pen.endpoint.port}`;

  const port2 = await freePort(ip(81));
  const spec2 = `${ip(81)}:${port2}`;
  assert.equal(await command(pen.control, `listen ${spec2}`), `${spec2}\n`);
  assert.equal(await command(pen.control, 'listen'), `${spec2}\n`);
  const moved = { host: ip(81), port: port2 };
  const h = await holdOne(moved);
  s.client(h.client);
  assert.equal(h.server, 'A', 'the new address serves');
  await assert.rejects(connect(pen.endpoint, { timeoutMs: 1000 }), /ECONNREFUSED/, `the old address ${oldSpec} is closed`);
  await held.write('survivor\n');
  assert.equal(await held.line(2000), 'survivor', 'a connection accepted on the old listener keeps relaying');

  // Refused: a port in use, an address not on this machine, a malformed spec.
  const squatter = net.createServer();
  s.defer(() => withTimeout(new Promise<void>((r) => squatter.close(() => r())), 3000, 'the squatter to close'));
  const busy = await withTimeout(new Promise<number>((resolve) =>
    squatter.listen(0, ip(81), () => resolve((squatter.address() as net.AddressInfo).port))), 3000, 'the squatter to listen');
  for (const bad of [`${ip(81)}:${busy}`, '192.0.2.1:8080', `${ip(81)}:99999`, `${ip(81)}:http-nonsense`]) {
    const reply = await command(pen.control, `listen ${bad}`);
    assert.match(reply, /^pen: [^\n]+\n$/, `listen ${bad}: one error line, got ${JSON.stringify(reply)}`);
    assert.ok(pen.isRunning(), `pen survives listen ${bad}`);
    assert.equal(await command(pen.control, 'listen'), `${spec2}\n`, 'the listen address is unchanged');
    const c = await holdOne(moved);
    s.client(c.client);
    assert.equal(c.server, 'A', `the old listener still serves after listen ${bad}`);
  }
}));
