// `idlers N` (spec/dataplane.md §7): pen keeps N backend connections open without a client,
// chosen by the pool; they count in the server's conn and take connection slots; a backend
// that closes one gets it replaced, but a backend that closes every connection at once is not
// hammered (one attempt a second); the next client for that server takes an idler instead of
// connecting (the backend sees no new connection for it) and the idler is replaced;
// `idlers 0` closes them; more than conn_max - 1 is refused. Spread over `workers 2`.
// Block 152 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';

import { closedPort } from '../../helpers/backends.js';
import { connect } from '../../helpers/clients.js';
import { command, penWithControl, servers } from '../../helpers/control.js';
import { loopback, removeDir, specOf, tempDir, type Endpoint } from '../../helpers/net.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { sleep, waitFor, withTimeout } from '../../helpers/time.js';

const ip = loopback(152);

interface Numbered {
  spec: string;
  /** Connections accepted so far; each is numbered from 1 in accept order. */
  accepted: number;
  sockets: Map<number, net.Socket>;
}

/**
 * A backend that numbers its connections and answers every chunk with `N:chunk`, so a client
 * learns which backend connection carried it. closeAtOnce: every connection is closed as soon
 * as it is accepted (a backend that refuses to keep anything open).
 */
async function numbered(s: Scope, host: string, closeAtOnce = false): Promise<Numbered> {
  const b: Numbered = { spec: '', accepted: 0, sockets: new Map() };
  const server = net.createServer((sock) => {
    const n = ++b.accepted;
    sock.on('error', () => undefined);
    if (closeAtOnce) {
      sock.end();
      return;
    }
    b.sockets.set(n, sock);
    sock.on('close', () => b.sockets.delete(n));
    sock.on('data', (d) => sock.write(`${n}:${d.toString()}`));
  });
  await withTimeout(new Promise<void>((resolve) => server.listen({ host, port: 0, exclusive: true }, resolve)), 5000, 'the backend to listen');
  b.spec = `${host}:${(server.address() as net.AddressInfo).port}`;
  s.defer(() => new Promise<void>((resolve) => {
    for (const sock of b.sockets.values()) sock.destroy();
    server.close(() => resolve());
  }));
  return b;
}

async function statusCounts(control: Endpoint): Promise<{ used: number; fds: number }> {
  const page = await command(control, 'status');
  const used = /Number of connections: \d+ max, (\d+) used/.exec(page);
  const fds = /Descriptors: (\d+) in use/.exec(page);
  assert.ok(used && fds, page.slice(-400));
  return { used: Number(used[1]), fds: Number(fds[1]) };
}

test('idlers 2: kept open, counted, replaced when the backend closes one, handed to a client, closed by idlers 0', () => scoped(async (s) => {
  const b = await numbered(s, ip(2));
  const dir = tempDir('idlers');
  s.defer(() => removeDir(dir));
  const pen = s.pen(await penWithControl(ip(1), ['-x', '40', '-w', path.join(dir, 'status.html')], [b.spec]));
  assert.equal(await command(pen.control, 'idlers'), 'Idlers: 0/0\n');
  await command(pen.control, 'idlers 2');
  await waitFor(() => b.sockets.size === 2, 5000, 'the backend to see 2 idle connections');
  await waitFor(async () => (await command(pen.control, 'idlers')) === 'Idlers: 2/2\n', 5000, 'Idlers: 2/2');
  assert.equal((await servers(pen.control))[0]!.conn, 2, 'idlers count in the server\'s conn');
  assert.equal((await statusCounts(pen.control)).used, 2, 'idlers take connection slots');
  assert.equal(b.accepted, 2);

  // The backend closes one: it is replaced.
  b.sockets.get(1)!.destroy();
  await waitFor(() => b.accepted === 3 && b.sockets.size === 2, 5000, 'the closed idler to be replaced');

  // A client is served through an idler: no new backend connection carries its bytes.
  const before = new Set(b.sockets.keys());
  const c = s.client(await connect(pen.endpoint));
  await c.write('hello');
  await c.atLeast(1, 5000);
  await waitFor(() => /^\d+:hello$/.test(c.text()), 5000, 'the echo');
  const carrier = Number(c.text().split(':')[0]);
  assert.ok(before.has(carrier), `connection ${carrier} was an idler (idlers were ${[...before]})`);
  await waitFor(() => b.accepted === 4 && b.sockets.size === 3, 5000, 'the taken idler to be replaced');
  assert.equal((await servers(pen.control))[0]!.conn, 3, 'two idlers and the client');
  c.destroy();
  await waitFor(() => b.sockets.size === 2, 5000, 'the client\'s connection to end');
  await waitFor(async () => (await servers(pen.control))[0]!.conn === 2, 5000, 'the server count back to the idlers');

  // Above conn_max - 1: refused, nothing changes.
  const refused = await command(pen.control, 'idlers 40');
  assert.match(refused, /^pen: idlers: 40 is too many: .*conn_max - 1 \(39\)/);
  assert.equal(await command(pen.control, 'idlers'), 'Idlers: 2/2\n');

  assert.match(await command(pen.control, 'idlers 0'), /^Idlers: [0-2]\/0\n$/, 'current (still closing) / wanted');
  await waitFor(() => b.sockets.size === 0, 5000, 'idlers 0 to close them');
  await waitFor(async () => (await command(pen.control, 'idlers')) === 'Idlers: 0/0\n', 5000, 'Idlers: 0/0');
  assert.equal((await servers(pen.control))[0]!.conn, 0);
  await waitFor(async () => (await statusCounts(pen.control)).used === 0, 5000, 'no connection left');
  assert.equal((await statusCounts(pen.control)).fds, 0, 'every descriptor given back');
  assert.match(await command(pen.control, 'connection 0'), /state = 0\n/);
  assert.equal(b.accepted, 4, 'nothing reconnected after idlers 0');
}));

test('idlers: a backend that closes every connection at once is not hammered (one attempt a second)', () => scoped(async (s) => {
  const b = await numbered(s, ip(12), true);
  // One worker: the back-off is each worker's own (tcp/idlers.h), so N workers try N a second.
  const pen = s.pen(await penWithControl(ip(11), ['-b', '0', '-O', 'workers 1', '-O', 'idlers 2'], [b.spec]));
  await waitFor(() => b.accepted >= 2, 5000, 'the first idlers');
  const start = b.accepted;
  await sleep(3000);
  const attempts = b.accepted - start;
  assert.ok(attempts >= 1, 'replacements are still tried');
  assert.ok(attempts <= 4, `at most about one attempt a second: ${attempts} in 3 s`);
  assert.match(await command(pen.control, 'idlers'), /^Idlers: [0-2]\/2\n$/);
}));

test('idlers 3 with workers 2: spread over both workers, all kept; write saves idlers', () => scoped(async (s) => {
  const b = await numbered(s, ip(22));
  const dir = tempDir('idlers-w');
  s.defer(() => removeDir(dir));
  const pen = s.pen(await penWithControl(ip(21), ['-O', 'workers 2', '-O', 'idlers 3'], [b.spec]));
  await waitFor(() => b.sockets.size === 3, 5000, 'the backend to see 3 idle connections');
  await waitFor(async () => (await command(pen.control, 'idlers')) === 'Idlers: 3/3\n', 5000, 'Idlers: 3/3');
  const saved = path.join(dir, 'saved.cfg');
  assert.equal(await command(pen.control, `write ${saved}`), '');
  const { readFileSync } = await import('node:fs');
  assert.match(readFileSync(saved, 'utf8'), /^idlers 3$/m);
  // Clients are served (through idlers or new connections), the idlers stay 3.
  for (let i = 0; i < 6; i++) {
    const c = await connect(pen.endpoint);
    await c.write(`x${i}`);
    await waitFor(() => c.text().endsWith(`:x${i}`), 5000, 'the echo');
    c.destroy();
  }
  await waitFor(() => b.sockets.size === 3, 5000, 'back to the 3 idlers');
  assert.equal(await command(pen.control, 'idlers'), 'Idlers: 3/3\n');
}));

test('idlers: a failed connect fails over like a client\'s (the dead server is blacklisted, the live one holds the idlers)', () => scoped(async (s) => {
  const dead = await closedPort(ip(32));
  const live = await numbered(s, ip(33));
  const pen = s.pen(await penWithControl(ip(31), ['-O', 'idlers 2'], [specOf(dead), live.spec]));
  await waitFor(() => live.sockets.size === 2, 5000, 'both idlers on the live server');
  await waitFor(async () => (await command(pen.control, 'idlers')) === 'Idlers: 2/2\n', 5000, 'Idlers: 2/2');
  const rows = await servers(pen.control);
  assert.deepEqual(rows.map((r) => r.conn), [0, 2]);
  // A client whose turn lands on the live server takes an idler there.
  const c = s.client(await connect(pen.endpoint));
  await c.write('hi');
  await waitFor(() => /^\d+:hi$/.test(c.text()), 5000, 'the echo');
  assert.ok(Number(c.text().split(':')[0]) <= 2, `served by an idler: ${c.text()}`);
}));

test('idlers: when a server changes address its idlers are closed and made again at the new one; clients never get the old', () => scoped(async (s) => {
  const oldB = await numbered(s, ip(42));
  const newB = await numbered(s, ip(43));
  const pen = s.pen(await penWithControl(ip(41), ['-O', 'idlers 2'], [oldB.spec]));
  await waitFor(() => oldB.sockets.size === 2, 5000, 'the idlers at the old address');
  const [host, port] = newB.spec.split(':');
  assert.equal(await command(pen.control, `server 0 address ${host} port ${port}`), '');
  await waitFor(() => oldB.sockets.size === 0 && newB.sockets.size === 2, 5000, 'the idlers to move to the new address');
  const c = s.client(await connect(pen.endpoint));
  await c.write('where');
  await waitFor(() => /^\d+:where$/.test(c.text()), 5000, 'the echo');
  assert.equal(oldB.accepted, 2, 'the old address got nothing more');
  assert.equal((await servers(pen.control))[0]!.conn, 3);
}));
