// UDP mode failover: Pen's own test scenario (three backends blacklisted one by one, traffic
// ends on the emergency server, restoring them restores balancing), the operator's
// `-O "server N blacklist T"`, a backend that answers with ICMP port unreachable (blacklisted,
// the flow moves on and its datagram is resent), stubborn mode, and a running flow moving off
// a server blacklisted under it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { tally } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';
import { startUdpBackend, type UdpBackend } from '../../helpers/udp-backends.js';
import { dig, freeUdpPort, startUdpEngine, startUdpPen, UdpClient } from '../../helpers/udp.js';
import type { Server } from '../../../lib/config/settings.js';

const ip = loopback(72);
type Deferrer = { defer(fn: () => unknown): void };

async function backend(s: Deferrer, name: string, host: string): Promise<UdpBackend> {
  const b = await startUdpBackend(name, host);
  s.defer(() => b.close());
  return b;
}

function server(b: { host: string; port: number }): Server {
  return { host: b.host, port: b.port, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 };
}

async function digs(e: { host: string; port: number }, source: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await dig(e, source));
  return out;
}

test('udp: three backends blacklisted one by one, then the emergency server, then restored', () => scoped(async (s) => {
  const list = [await backend(s, 'A', ip(2)), await backend(s, 'B', ip(3)), await backend(s, 'C', ip(4))];
  const em = await backend(s, 'E', ip(5));
  const u = await startUdpEngine({ host: ip(1), port: await freeUdpPort(ip(1)) }, (st) => {
    st.servers = list.map(server);
    st.emergency = server(em);
    st.roundrobin = true;
  });
  s.defer(() => u.close());
  const src = ip(100);
  assert.deepEqual(tally(await digs(u.endpoint, src, 3)), { A: 1, B: 1, C: 1 });
  u.engine.native.blacklist(0, 60);
  assert.deepEqual(tally(await digs(u.endpoint, src, 4)), { B: 2, C: 2 });
  u.engine.native.blacklist(1, 60);
  assert.deepEqual(await digs(u.endpoint, src, 3), ['C', 'C', 'C']);
  u.engine.native.blacklist(2, 60);
  assert.deepEqual(await digs(u.endpoint, src, 3), ['E', 'E', 'E'], 'all blacklisted: the emergency server');
  u.engine.native.blacklist(0, 0);
  assert.deepEqual(await digs(u.endpoint, src, 2), ['A', 'A']);
  u.engine.native.blacklist(1, 0);
  u.engine.native.blacklist(2, 0);
  assert.deepEqual(tally(await digs(u.endpoint, src, 6)), { A: 2, B: 2, C: 2 }, 'balancing restored');
}));

test('udp: -O "server 0 blacklist 30" keeps server 0 out from the start', () => scoped(async (s) => {
  const a = await backend(s, 'A', ip(12));
  const b = await backend(s, 'B', ip(13));
  const c = await backend(s, 'C', ip(14));
  const listen = { host: ip(11), port: await freeUdpPort(ip(11)) };
  const p = await startUdpPen(listen, ['-r', '-O', 'server 0 blacklist 30'], [a.spec, b.spec, c.spec]);
  s.defer(() => p.kill());
  assert.deepEqual(tally(await digs(listen, ip(100), 4)), { B: 2, C: 2 });
  assert.equal(a.received, 0);
}));

test('udp: an unreachable backend (ICMP port unreachable) is blacklisted and the query answered by the next', () => scoped(async (s) => {
  const deadPort = await freeUdpPort(ip(22)); // nothing listens there: the kernel answers ICMP
  const b = await backend(s, 'B', ip(23));
  const listen = { host: ip(21), port: await freeUdpPort(ip(21)) };
  const p = await startUdpPen(listen, [], [`${ip(22)}:${deadPort}`, b.spec]);
  s.defer(() => p.kill());
  // The first client is tracked to server 0; its query is resent to B after the ICMP error.
  assert.equal(await dig(listen, ip(100)), 'B');
  assert.equal(b.received, 1, 'B got the query exactly once');
  await waitFor(() => /server 0 .*failed: Connection refused; server blacklisted/.test(p.stderr()), 3000,
    'the server-down report');
  // Blacklisted: new clients and the tracked one go to B without trying server 0.
  assert.deepEqual(await digs(listen, ip(101), 2), ['B', 'B']);
  assert.deepEqual(await digs(listen, ip(100), 2), ['B', 'B']);
}));

test('udp -s: stubborn flows are not moved; the query is dropped', () => scoped(async (s) => {
  const deadPort = await freeUdpPort(ip(32));
  const b = await backend(s, 'B', ip(33));
  const listen = { host: ip(31), port: await freeUdpPort(ip(31)) };
  const p = await startUdpPen(listen, ['-s'], [`${ip(32)}:${deadPort}`, b.spec]);
  s.defer(() => p.kill());
  assert.equal(await dig(listen, ip(100), { timeS: 1 }), '');
  assert.equal(await dig(listen, ip(100), { timeS: 1 }), '', 'still tracked to the dead server');
  assert.equal(b.received, 0);
}));

test('udp: a running flow leaves a server blacklisted under it, on its next datagram', () => scoped(async (s) => {
  const a = await backend(s, 'A', ip(42));
  const b = await backend(s, 'B', ip(43));
  const u = await startUdpEngine({ host: ip(41), port: await freeUdpPort(ip(41)) }, (st) => {
    st.servers = [server(a), server(b)];
  });
  s.defer(() => u.close());
  const c = await UdpClient.open(ip(100));
  s.defer(() => c.close());
  assert.equal(await c.ask(u.endpoint, 'one'), 'A:one');
  assert.equal(await c.ask(u.endpoint, 'two'), 'A:two');
  u.engine.native.blacklist(0, 60);
  assert.equal(await c.ask(u.endpoint, 'three'), 'B:three');
  assert.equal(u.engine.native.connections().length, 1, 'the same flow, moved');
  u.engine.native.blacklist(0, 0);
  assert.equal(await c.ask(u.endpoint, 'four'), 'B:four', 'a moved flow stays where it went');
}));
