// UDP flows end: after idle_timeout idle seconds (60 when idle_timeout is 0), by LRU eviction
// when conn_max flows exist, and by `close N`. Each flow holds one upstream socket, so pen's
// descriptor count follows the flow count.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { sleep, waitFor } from '../../helpers/time.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';
import { fdCount, freeUdpPort, startUdpEngine, startUdpPen, UdpClient } from '../../helpers/udp.js';

const ip = loopback(73);

test('udp: a flow idle for idle_timeout seconds is closed with its socket', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(2));
  s.defer(() => a.close());
  const listen = { host: ip(1), port: await freeUdpPort(ip(1)) };
  const p = await startUdpPen(listen, ['-O', 'idle_timeout 1'], [a.spec]);
  s.defer(() => p.kill());
  const base = fdCount(p.pid);
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  assert.equal(await c.ask(listen, 'x'), 'A:x');
  assert.equal(await c.ask(listen, 'y'), 'A:y');
  assert.equal(fdCount(p.pid), base + 1, 'one upstream socket for the flow');
  assert.equal(new Set(a.ports).size, 1, 'both datagrams used the same flow');
  await waitFor(() => fdCount(p.pid) === base, 4000, 'the idle flow to be closed');
  assert.equal(await c.ask(listen, 'z'), 'A:z');
  assert.equal(new Set(a.ports).size, 2, 'a new flow (new upstream port) after the expiry');
}));

test('udp: traffic keeps a flow alive; without idle_timeout flows last 60 s', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(12));
  s.defer(() => a.close());
  const listen = { host: ip(11), port: await freeUdpPort(ip(11)) };
  const p = await startUdpPen(listen, [], [a.spec]);
  s.defer(() => p.kill());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  for (let i = 0; i < 4; i++) {
    assert.equal(await c.ask(listen, `${i}`), `A:${i}`);
    await sleep(400);
  }
  assert.equal(new Set(a.ports).size, 1);
}));

test('udp: with conn_max flows open, a new client evicts the least recently active one', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(22));
  s.defer(() => a.close());
  const listen = { host: ip(21), port: await freeUdpPort(ip(21)) };
  const p = await startUdpPen(listen, ['-x', '2'], [a.spec]);
  s.defer(() => p.kill());
  const base = fdCount(p.pid);
  const [x, y, z] = [await UdpClient.open(ip(101)), await UdpClient.open(ip(102)), await UdpClient.open(ip(103))];
  s.defer(() => Promise.all([x.close(), y.close(), z.close()]));
  await x.ask(listen, 'x1');
  await y.ask(listen, 'y1');
  await x.ask(listen, 'x2'); // y is now the least recently active
  await z.ask(listen, 'z1'); // evicts y
  assert.equal(fdCount(p.pid), base + 2);
  const portsBefore = new Set(a.ports).size;
  await x.ask(listen, 'x3');
  assert.equal(new Set(a.ports).size, portsBefore, 'x kept its flow');
  await y.ask(listen, 'y2');
  assert.equal(new Set(a.ports).size, portsBefore + 1, 'y got a new flow');
  assert.equal(fdCount(p.pid), base + 2);
}));

test('udp: closeConnection (penctl close N) ends a flow', () => scoped(async (s) => {
  const a = await startUdpBackend('A', ip(32));
  s.defer(() => a.close());
  const u = await startUdpEngine({ host: ip(31), port: await freeUdpPort(ip(31)) }, (st) => {
    st.servers = [{ host: a.host, port: a.port, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 }];
  });
  s.defer(() => u.close());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  await c.ask(u.endpoint, 'x');
  const [flow] = u.engine.native.connections();
  assert.ok(flow);
  assert.equal(u.engine.native.closeConnection(flow.id), true);
  await waitFor(() => u.engine.native.connections().length === 0, 2000, 'the flow to close');
  assert.equal(u.engine.native.closeConnection(flow.id), false, 'no such flow any more');
  await c.ask(u.endpoint, 'y');
  assert.equal(new Set(a.ports).size, 2);
}));
