// Country entries in UDP mode (-U): the flow's first datagram goes through client_acl with a
// country entry (the SE client reaches the abuse server, or is dropped without one), and a
// server's acl with a country entry moves SE flows to the other server.
// Block 123 (see test/helpers/net.ts): pens on .1/.11, backends next to them, clients .100+.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { geoipMissing, writeCountryDb } from '../../helpers/geoip.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { startUdpBackend, type UdpBackend } from '../../helpers/udp-backends.js';
import { dig, freeUdpPort, startUdpPen, type UdpPen } from '../../helpers/udp.js';

const ip = loopback(123);
const SE = ip(100);
const US = ip(101);

async function backend(s: Scope, name: string, host: string): Promise<UdpBackend> {
  const b = await startUdpBackend(name, host);
  s.defer(() => b.close());
  return b;
}

async function pen(s: Scope, host: string, options: string[], specs: string[]): Promise<UdpPen> {
  const p = await startUdpPen({ host, port: await freeUdpPort(host) }, options, specs);
  s.defer(() => p.kill());
  return p;
}

test('udp: client_acl and server acl with country entries', { skip: geoipMissing() ?? false }, () => scoped(async (s) => {
  const dir = tempDir('geoudp');
  s.defer(() => removeDir(dir));
  const db = writeCountryDb(dir, 'c.mmdb', { [`${SE}/32`]: 'SE', [`${US}/32`]: 'US' });
  const a = await backend(s, 'A', ip(2));
  const b = await backend(s, 'B', ip(3));
  const abuse = await backend(s, 'ABUSE', ip(4));
  const geo = ['-O', `geoip_db ${db}`, '-O', 'acl 1 deny country SE'];

  const admission = await pen(s, ip(1), [...geo, '-O', 'client_acl 1', '-B', abuse.spec], [a.spec]);
  assert.equal(await dig(admission.endpoint, SE), 'ABUSE', 'SE goes to the abuse server');
  assert.equal(await dig(admission.endpoint, US), 'A');

  const steering = await pen(s, ip(11), [...geo, '-r', '-O', 'server 0 acl 1'], [a.spec, b.spec]);
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add(await dig(steering.endpoint, SE));
  assert.deepEqual([...seen], ['B'], 'server 0 denies SE: every SE flow goes to B');
  const us = new Set<string>();
  for (let i = 0; i < 4; i++) us.add(await dig(steering.endpoint, US));
  assert.deepEqual([...us].sort(), ['A', 'B'], 'US flows use both');
}));
