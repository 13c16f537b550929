// The UDP data plane driven in-process through lib/engine, for the edges of its contract:
// the constructor option, flows as penctl "connections", the control commands that read them,
// listener replacement, server limits and ACLs, the poll backend, and close().
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Server } from '../../../lib/config/settings.js';
import { dispatch } from '../../../lib/control/dispatch.js';
import { loadAddon } from '../../../lib/engine/native.js';
import { Runtime } from '../../../lib/run/runtime.js';
import { loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';
import { startUdpBackend, type UdpBackend } from '../../helpers/udp-backends.js';
import { dig, freeUdpPort, startUdpEngine, startUdpPen, UdpClient } from '../../helpers/udp.js';

const ip = loopback(77);

function server(b: UdpBackend, extra: Partial<Server> = {}): Server {
  return { host: b.host, port: b.port, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0, ...extra };
}

test('udp engine: the udp option must be a boolean; both modes construct', () => {
  const { Engine } = loadAddon();
  assert.throws(() => new Engine({ poller: 'default', udp: 'yes' as unknown as boolean }), TypeError);
  for (const udp of [true, false]) new Engine({ poller: 'default', udp }).close();
});

test('udp engine: flows are connections; connection, servers, recent and socket read them', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(2));
  s.defer(() => a.close());
  const u = await startUdpEngine({ host: ip(1), port: await freeUdpPort(ip(1)) }, (st) => { st.servers = [server(a)]; });
  s.defer(() => u.close());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  await c.ask(u.endpoint, 'x');
  const [flow] = u.engine.native.connections();
  assert.equal(flow!.state, 2);
  assert.equal(flow!.client, ip(100));
  assert.equal(flow!.server, 0);
  assert.equal(flow!.initial, 0);
  assert.ok(flow!.upfd >= 0 && flow!.downfd >= 0);
  const rt = new Runtime(u.settings, u.engine, () => undefined);
  rt.running = true;
  assert.equal(await dispatch(rt, `connection ${flow!.id}`, 'socket'),
    `Connection ${flow!.id}:\nstate = 2\ndownfd = ${flow!.downfd}, upfd = ${flow!.upfd}\n` +
    'client = 0, server = 0\npend = 0\n'); // client: the slot in the client table, as Pen
  assert.match(await dispatch(rt, 'servers', 'socket'), new RegExp(`^0 addr ${a.host} port ${a.port} conn 1 .* sx 1 rx 3\\n$`));
  assert.equal(await dispatch(rt, 'recent', 'socket'), `${ip(100)} connects 1 sx 3 rx 1\n`);
  assert.equal(await dispatch(rt, `socket ${flow!.upfd}`, 'socket'), `Socket ${flow!.upfd} belongs to connection ${flow!.id}\n`);
}));

test('udp engine: a flow follows its server to a new address (server N address/port)', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(52));
  const b = await startUdpBackend('B', ip(53));
  s.defer(() => Promise.all([a.close(), b.close()]));
  const u = await startUdpEngine({ host: ip(51), port: await freeUdpPort(ip(51)) }, (st) => { st.servers = [server(a)]; });
  s.defer(() => u.close());
  const rt = new Runtime(u.settings, u.engine, () => undefined);
  rt.running = true;
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  assert.equal(await c.ask(u.endpoint, '1'), 'A:1');
  assert.equal(await dispatch(rt, `server 0 address ${b.host} port ${b.port}`, 'socket'), '');
  assert.equal(await c.ask(u.endpoint, '2'), 'B:2');
  assert.equal(u.engine.native.connections().length, 1);
}));

test('udp engine: listen() replaces the listener; flows keep their servers', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(12));
  s.defer(() => a.close());
  const u = await startUdpEngine({ host: ip(11), port: await freeUdpPort(ip(11)) }, (st) => { st.servers = [server(a)]; });
  s.defer(() => u.close());
  const next = { host: ip(13), port: await freeUdpPort(ip(13)) };
  await u.engine.listen(`${next.host}:${next.port}`, u.settings);
  assert.equal(await dig(next, ip(100)), 'A');
  assert.equal(await dig(u.endpoint, ip(100), { timeS: 1 }), '', 'the old address is closed');
  await assert.rejects(u.engine.listen('/tmp/nope.sock', u.settings), (e: Error & { code?: string }) =>
    e.code === 'PEN_ERR_BIND' && /UDP mode needs an IPv4 or IPv6 address/.test(e.message));
  assert.equal(await dig(next, ip(100)), 'A', 'a failed listen keeps the current listener');
}));

test('udp engine: max (with hard for returning clients) and per-server ACLs act per flow', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(22));
  const b = await startUdpBackend('B', ip(23));
  s.defer(() => Promise.all([a.close(), b.close()]));
  const u = await startUdpEngine({ host: ip(21), port: await freeUdpPort(ip(21)) }, (st) => {
    st.servers = [server(a, { maxc: 1 }), server(b, { acl: 1 })];
    st.acls[1] = [{ kind: 'ipv4', permit: false, address: ip(102), mask: '255.255.255.255' }];
  });
  s.defer(() => u.close());
  const c1 = await UdpClient.open(ip(100));
  const c2 = await UdpClient.open(ip(101));
  const c3 = await UdpClient.open(ip(102));
  s.defer(() => Promise.all([c1.close(), c2.close(), c3.close()]));
  assert.equal(await c1.ask(u.endpoint, '1'), 'A:1');
  assert.equal(await c2.ask(u.endpoint, '2'), 'B:2', 'A is at its max of one flow');
  await c3.send(u.endpoint, '3');
  await assert.rejects(c3.atLeast(1, 800), 'A is full and B denies this client: dropped');
  assert.equal(u.engine.native.stats().refused, 1n);
}));

test('udp engine: blacklisting the emergency server too drops queries; close() ends everything', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(32));
  const e = await startUdpBackend('E', ip(33));
  s.defer(() => Promise.all([a.close(), e.close()]));
  const u = await startUdpEngine({ host: ip(31), port: await freeUdpPort(ip(31)) }, (st) => {
    st.servers = [server(a)];
    st.emergency = server(e);
  });
  s.defer(() => u.close());
  u.engine.native.blacklist(0, 60);
  assert.equal(await dig(u.endpoint, ip(100)), 'E');
  u.engine.native.blacklist(-1, 60);
  assert.equal(await dig(u.endpoint, ip(100), { timeS: 1 }), '');
  await waitFor(() => u.logs.some((l) => /datagram\(s\) dropped/.test(l)), 3000, 'the drop report');
  u.close();
  assert.throws(() => u.engine.native.stats(), /closed/);
}));

test('udp: pen -P (poll event backend) balances datagrams too', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(42));
  const b = await startUdpBackend('B', ip(43));
  s.defer(() => Promise.all([a.close(), b.close()]));
  const listen = { host: ip(41), port: await freeUdpPort(ip(41)) };
  const p = await startUdpPen(listen, ['-P', '-r'], [a.spec, b.spec]);
  s.defer(() => p.kill());
  assert.deepEqual([await dig(listen, ip(100)), await dig(listen, ip(100)), await dig(listen, ip(100))], ['A', 'B', 'A']);
}));
