// UDP mode (-U), server selection with `dig` as the client: every dig query comes from a new
// source port, so each one is a new flow and goes through selection like a new TCP
// connection would (spec/selection.md): client tracking by IP, -r roundrobin, -h hash,
// -W weights, prio, client_acl with the abuse server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { tally } from '../../helpers/clients.js';
import { loopback } from '../../helpers/net.js';
import { scoped } from '../../helpers/scope.js';
import { startUdpBackend, type UdpBackend } from '../../helpers/udp-backends.js';
import { dig, freeUdpPort, startUdpPen, type UdpEndpoint, type UdpPen } from '../../helpers/udp.js';

const ip = loopback(71);

async function backends(s: { defer(fn: () => unknown): void }, names: string[], first: number): Promise<UdpBackend[]> {
  const out: UdpBackend[] = [];
  for (const [i, n] of names.entries()) {
    const b = await startUdpBackend(n, ip(first + i));
    s.defer(() => b.close());
    out.push(b);
  }
  return out;
}

async function pen(s: { defer(fn: () => unknown): void }, host: string, options: string[], specs: string[]): Promise<UdpPen> {
  const listen: UdpEndpoint = { host, port: await freeUdpPort(host) };
  const p = await startUdpPen(listen, options, specs);
  s.defer(() => p.kill());
  return p;
}

async function digs(p: UdpPen, source: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await dig(p.endpoint, source));
  return out;
}

test('udp tracking: a client IP keeps its server across source ports; new IPs are balanced', () => scoped(async (s) => {
  const [a, b] = await backends(s, ['A', 'B'], 2);
  const p = await pen(s, ip(1), [], [a!.spec, b!.spec]);
  assert.deepEqual(await digs(p, ip(100), 4), ['A', 'A', 'A', 'A']);
  assert.deepEqual(await digs(p, ip(101), 2), ['B', 'B']);
  assert.deepEqual(await digs(p, ip(100), 2), ['A', 'A'], 'the first client went back to A');
  // Every query was its own flow: A saw six different upstream source ports.
  assert.equal(new Set(a!.ports).size, 6);
}));

test('udp -r: consecutive queries go round the servers', () => scoped(async (s) => {
  const [a, b, c] = await backends(s, ['A', 'B', 'C'], 12);
  const p = await pen(s, ip(11), ['-r'], [a!.spec, b!.spec, c!.spec]);
  assert.deepEqual(await digs(p, ip(100), 6), ['A', 'B', 'C', 'A', 'B', 'C']);
}));

test('udp -h: the client address is hashed (Pen-compatible for IPv4) and stays put', () => scoped(async (s) => {
  const names = ['A', 'B', 'C'];
  const list = await backends(s, names, 22);
  const p = await pen(s, ip(21), ['-h'], list.map((b) => b.spec));
  for (const last of [100, 101, 102, 103]) {
    const src = ip(last);
    const [b0, b1, b2, b3] = src.split('.').map(Number) as [number, number, number, number];
    const expected = names[((b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0) % 3];
    assert.deepEqual(await digs(p, src, 2), [expected, expected], src);
  }
}));

test('udp -W: flows are spread by weight (weights 1 and 3)', () => scoped(async (s) => {
  const [a, b] = await backends(s, ['A', 'B'], 32);
  const p = await pen(s, ip(31), ['-W', '-r'], [`${a!.spec}:0:0:1`, `${b!.spec}:0:0:3`]);
  // Flows stay open (idle timeout 60 s) and count as connections of their server.
  assert.deepEqual(tally(await digs(p, ip(100), 8)), { A: 2, B: 6 });
}));

test('udp prio: the available server with the lowest prio takes every flow', () => scoped(async (s) => {
  const [a, b] = await backends(s, ['A', 'B'], 42);
  const p = await pen(s, ip(41), ['-O', 'prio', '-r'], [`${a!.spec}:0:0:0:5`, `${b!.spec}:0:0:0:1`]);
  assert.deepEqual(await digs(p, ip(100), 3), ['B', 'B', 'B']);
}));

test('udp client_acl: denied clients reach the abuse server, or are dropped without one', () => scoped(async (s) => {
  const [a, abuse] = await backends(s, ['A', 'ABUSE'], 52);
  const acl = ['-O', `acl 1 deny ${ip(66)}`, '-O', 'client_acl 1'];
  const withAbuse = await pen(s, ip(51), [...acl, '-B', abuse!.spec], [a!.spec]);
  assert.equal(await dig(withAbuse.endpoint, ip(66)), 'ABUSE');
  assert.equal(await dig(withAbuse.endpoint, ip(67)), 'A');
  const without = await pen(s, ip(54), acl, [a!.spec]);
  const before = a!.received;
  assert.equal(await dig(without.endpoint, ip(66), { timeS: 1 }), '', 'a denied client gets no answer');
  assert.equal(a!.received, before, 'and nothing reached a server');
  assert.equal(await dig(without.endpoint, ip(67)), 'A');
}));
