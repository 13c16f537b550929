// UDP mode keeps datagrams whole: the largest IPv4 payload (65,507 bytes) and the empty
// datagram go both ways intact, a request may get several replies, and every byte is
// counted both ways (Pen missed the first datagram and every reply, quirk 6).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { hasIPv6Loopback, loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { startUdpBackend } from '../../helpers/udp-backends.js';
import { freeUdpPort, startUdpEngine, startUdpPen, UdpClient } from '../../helpers/udp.js';

const ip = loopback(75);

test('udp: 65,507-byte datagrams arrive intact both ways', () => scoped(async (s) => {
  const echo = await startUdpBackend('E', ip(2), 'echo');
  s.defer(() => echo.close());
  const listen = { host: ip(1), port: await freeUdpPort(ip(1)) };
  const p = await startUdpPen(listen, [], [echo.spec]);
  s.defer(() => p.kill());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  const big = randomBytes(65_507);
  await c.send(listen, big);
  const [back] = await c.atLeast(1, 5000);
  assert.equal(echo.sizes[0], 65_507);
  assert.equal(back!.length, 65_507);
  assert.ok(back!.equals(big), 'the echoed datagram is byte-for-byte the one sent');
}));

test('udp: zero-length datagrams are relayed both ways', () => scoped(async (s) => {
  const echo = await startUdpBackend('E', ip(12), 'echo');
  s.defer(() => echo.close());
  const listen = { host: ip(11), port: await freeUdpPort(ip(11)) };
  const p = await startUdpPen(listen, [], [echo.spec]);
  s.defer(() => p.kill());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  await c.send(listen, Buffer.alloc(0));
  await c.send(listen, 'after');
  const got = await c.atLeast(2);
  assert.deepEqual(echo.sizes, [0, 5]);
  assert.deepEqual(got.map((b) => b.toString()), ['', 'after']);
}));

test('udp: every reply to a request is relayed, in order', () => scoped(async (s) => {
  const twice = await startUdpBackend('T', ip(22), 'twice');
  s.defer(() => twice.close());
  const listen = { host: ip(21), port: await freeUdpPort(ip(21)) };
  const p = await startUdpPen(listen, [], [twice.spec]);
  s.defer(() => p.kill());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  await c.send(listen, 'a');
  await c.atLeast(2);
  await c.send(listen, 'b');
  const got = await c.atLeast(4);
  assert.deepEqual(got.map((b) => b.toString()), ['T:1:a', 'T:2:a', 'T:1:b', 'T:2:b']);
}));

test('udp: a burst of equal datagrams (sent as one GSO batch) arrives as the same datagrams, in order', () => scoped(async (s) => {
  const echo = await startUdpBackend('E', ip(42), 'echo');
  s.defer(() => echo.close());
  const listen = { host: ip(41), port: await freeUdpPort(ip(41)) };
  const p = await startUdpPen(listen, [], [echo.spec]);
  s.defer(() => p.kill());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  await c.ask(listen, 'warm'); // the flow exists: the burst below is batched, not selected
  const burst = [...Array.from({ length: 40 }, (_, i) => Buffer.alloc(100, i)), Buffer.alloc(50, 0xee), Buffer.alloc(100, 0xdd)];
  await Promise.all(burst.map((b) => c.send(listen, b)));
  const got = (await c.atLeast(1 + burst.length, 5000)).slice(1);
  assert.deepEqual(echo.sizes.slice(1), burst.map((b) => b.length));
  assert.deepEqual(got.map((b) => b.toString('hex')), burst.map((b) => b.toString('hex')));
}));

test('udp: bytes are counted both ways, the first datagram and the replies included', () => scoped(async (s) => {
  const echo = await startUdpBackend('E', ip(32), 'echo');
  s.defer(() => echo.close());
  const u = await startUdpEngine({ host: ip(31), port: await freeUdpPort(ip(31)) }, (st) => {
    st.servers = [{ host: echo.host, port: echo.port, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 }];
  });
  s.defer(() => u.close());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  for (const size of [100, 0, 1000]) await c.send(u.endpoint, Buffer.alloc(size, 1));
  await c.atLeast(3);
  const st = u.engine.native.stats();
  assert.equal(st.sx[0], 1100n, 'bytes sent to the server');
  assert.equal(st.rx[0], 1100n, 'bytes received from the server');
  assert.equal(st.conn[0], 1n, 'one flow holds server 0');
  assert.equal(st.accepted, 1n);
  assert.equal(st.active, 1);
  const [client] = u.engine.native.clients(300);
  assert.deepEqual({ address: client!.address, connects: client!.connects, sx: client!.sx, rx: client!.rx },
    { address: ip(100), connects: 1, sx: 1100n, rx: 1100n });
}));

test('udp over IPv6: 65,527-byte datagrams (the IPv6 maximum) intact', async (t) => {
  if (!(await hasIPv6Loopback())) {
    t.skip('no IPv6 loopback here');
    return;
  }
  await scoped(async (s) => {
    const echo = await startUdpBackend('E', '::1', 'echo');
    s.defer(() => echo.close());
    const listen = { host: '::1', port: await freeUdpPort('::1') };
    const p = await startUdpPen(listen, [], [echo.spec]);
    s.defer(() => p.kill());
    const c = await UdpClient.open('::1');
    s.defer(() => c.close());
    const big = randomBytes(65_527);
    await c.send(listen, big);
    const [back] = await c.atLeast(1, 5000);
    assert.ok(back!.equals(big));
  });
});
