// Keeps the two sides of the TS <-> C++ boundary in step: export names, the algorithm
// registry, and what decode.cc understands of a snapshot.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ALGORITHMS } from '../../lib/config/algorithms.js';
import { defaultSettings } from '../../lib/config/settings.js';
import { MAX_WORKERS } from '../../lib/config/workers.js';
import { MAX_SERVERS } from '../../lib/control/commands/servers.js';
import { ABI_VERSION, ADDON_EXPORTS, ENGINE_METHODS, loadAddon } from '../../lib/engine/native.js';
import { toSnapshot } from '../../lib/engine/to-snapshot.js';

const addon = loadAddon();

test('addon exports exactly the members of NativeAddon', () => {
  assert.deepEqual(Object.keys(addon).sort(), [...ADDON_EXPORTS].sort());
  assert.equal(addon.abiVersion, ABI_VERSION);
});

test('Engine has exactly the methods of NativeEngine', () => {
  const names = Object.getOwnPropertyNames(addon.Engine.prototype).filter((n) => n !== 'constructor');
  assert.deepEqual(names.sort(), [...ENGINE_METHODS].sort());
});

test('the addon\'s limits equal the control plane\'s', () => {
  assert.equal(addon.maxServers, MAX_SERVERS);
  assert.equal(addon.maxWorkers, MAX_WORKERS);
});

test('the C++ algorithm registry equals lib/config/algorithms.ts', () => {
  assert.deepEqual(addon.algorithms(), ALGORITHMS.map((a) => a.name));
});

test('decode.cc understands every snapshot field as sent', async () => {
  const s = defaultSettings();
  s.listen = '8080';
  s.servers = [
    { host: '127.0.0.1', port: 8001, maxc: 10, hard: 20, weight: 3, prio: 1, acl: 2 },
    { host: '::1', port: 8002, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 },
    { host: '/run/x.sock', port: 0, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 },
  ];
  s.emergency = { host: '127.0.0.9', port: 9, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 };
  s.hash = true;
  s.roundrobin = true;
  s.tcpFastclose = 'both';
  s.acls[2] = [
    { kind: 'ipv4', permit: true, address: '10.0.0.0', mask: '255.0.0.0' },
    { kind: 'ipv6', permit: false, address: '2001:db8::', prefix: 32 },
    { kind: 'country', permit: false, country: 'SE' },
  ];
  s.clientAcl = 2;
  s.geoipDb = '/etc/pen/countries.mmdb';
  s.http = true;
  s.sslCert = '/etc/pen/cert.pem';
  s.sslCaFile = '/etc/pen/ca.pem';
  s.sslVerifyClient = true;
  s.sslOptions = ['no_tlsv1.3', 'cipher_server_preference'];
  s.sslCiphers = 'ECDHE-ECDSA-AES128-GCM-SHA256';
  s.sslSniPath = '/etc/pen/sni';
  const snap = await toSnapshot(s);
  assert.deepEqual(addon._decodeEcho(snap), snap);
  assert.deepEqual(addon._decodeEcho({ ...snap, tls: null }), { ...snap, tls: null });
});

test('a bad snapshot field is refused with its path', async () => {
  const s = defaultSettings();
  s.servers = [{ host: '127.0.0.1', port: 1, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 }];
  const snap = await toSnapshot(s);
  assert.throws(() => addon._decodeEcho({ ...snap, algorithm: 'nosuch' }), /unknown algorithm 'nosuch'/);
  assert.throws(() => addon._decodeEcho({ ...snap, acls: [[{ permit: true, country: 'se' }], ...snap.acls.slice(1)] }),
    /acls\[0\]\[0\]\.country: expected a two-letter upper-case country code/);
  (snap.servers[0] as { port: number }).port = 70000;
  assert.throws(() => addon._decodeEcho(snap), (e: Error & { code?: string }) =>
    e.code === 'PEN_ERR_SNAPSHOT' && /servers\[0\]\.port/.test(e.message));
});

test('NaN, infinities and out-of-range numbers are a range error, never cast (issue 12, defect 7)', async () => {
  const s = defaultSettings();
  s.servers = [{ host: '127.0.0.1', port: 1, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 }];
  const snap = await toSnapshot(s);
  const cases: Array<[number, string]> = [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
    [-1e300, '-1000'], [1e300, '1000'], [2 ** 31, '2147483648.0'], [2.5, '2.5']];
  for (const [value, shown] of cases) {
    assert.throws(() => addon._decodeEcho({ ...snap, timeoutMs: value }), (e: Error & { code?: string }) =>
      e.code === 'PEN_ERR_SNAPSHOT' &&
      e.message.startsWith(`invalid snapshot field timeoutMs: expected a whole number in 1..2147483647, got ${shown}`),
    `timeoutMs ${value}`);
  }
});
