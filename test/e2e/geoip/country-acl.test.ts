// Country ACL entries end to end (spec/selection.md §8): pen matches clients against a MaxMind
// DB the test writes (test/helpers/mmdb.ts) in which 127.0.121.100 is in SE, .101 in US, ::1
// in NO and .102 is not listed. client_acl (from a -F file) refuses SE and admits US and the
// unknown client; the abuse server (-B) receives the denied SE client; a per-server acl steers
// SE clients away from one server; country entries apply to IPv6 clients; control_acl's
// country entries close an SE control client unanswered.
// Block 121 (see test/helpers/net.ts): pens on .1/.11/..., backends next to them, clients .100+.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { httpGet, whoAnswers, type ConnectOptions } from '../../helpers/clients.js';
import { command, exchange, penWithControl, tallyRequests } from '../../helpers/control.js';
import { geoipMissing, writeCountryDb } from '../../helpers/geoip.js';
import { hasIPv6Loopback, loopback, removeDir, tempDir } from '../../helpers/net.js';
import { scoped, type Scope } from '../../helpers/scope.js';

const ip = loopback(121);
const SE = ip(100);
const US = ip(101);
const UNLISTED = ip(102);
const from = (host: string): ConnectOptions => ({ localAddress: host });

type Where = { host: string; port: number };

/** Who answers a GET through pen, or 'denied' when pen closes the connection unanswered. */
async function outcome(e: Where, opts: ConnectOptions = {}): Promise<string> {
  try {
    return (await httpGet(e, { timeoutMs: 3000, ...opts })).body;
  } catch (err) {
    if (/no HTTP answer|ECONNRESET|EPIPE|closed/.test((err as Error).message)) return 'denied';
    throw err;
  }
}

async function set(ctl: Where, ...lines: string[]): Promise<void> {
  for (const line of lines) assert.equal(await command(ctl, line), '', `reply to ${line}`);
}

/** The test's database (SE, US, NO) in a directory removed afterwards. */
function database(s: Scope): { dir: string; db: string } {
  const dir = tempDir('geo');
  s.defer(() => removeDir(dir));
  const db = writeCountryDb(dir, 'countries.mmdb', { [`${SE}/32`]: 'SE', [`${US}/32`]: 'US', '::1/128': 'NO' });
  return { dir, db };
}

test('client_acl from a -F file: deny country SE refuses the SE client, admits US and unknown ones', { skip: geoipMissing() ?? false },
  () => scoped(async (s) => {
    const { dir, db } = database(s);
    const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
    const file = path.join(dir, 'pen.cfg');
    fs.writeFileSync(file, `geoip_db ${db}\nacl 1 deny country SE\nclient_acl 1\n`);
    const pen = s.pen(await penWithControl(ip(1), ['-F', file], [a.spec]));

    assert.equal(await command(pen.control, 'geoip_db'), `${db}\n`);
    const before = a.requests;
    assert.equal(await outcome(pen.endpoint, from(SE)), 'denied', 'SE is denied');
    assert.equal(a.requests, before, 'the denied client never reached the server');
    assert.equal(await outcome(pen.endpoint, from(US)), 'A', 'US: no entry matches, the opposite of deny');
    assert.equal(await outcome(pen.endpoint, from(UNLISTED)), 'A', 'unknown country: country entries do not match');

    // A permit list: only US passes; the unknown client gets the opposite of the last entry.
    await set(pen.control, 'no acl 1', 'acl 1 permit country US');
    assert.equal(await outcome(pen.endpoint, from(US)), 'A');
    assert.equal(await outcome(pen.endpoint, from(SE)), 'denied');
    assert.equal(await outcome(pen.endpoint, from(UNLISTED)), 'denied');
    // Mixed with address entries, first match decides.
    await set(pen.control, 'no acl 1', `acl 1 permit ${SE}`, 'acl 1 deny country SE');
    assert.equal(await outcome(pen.endpoint, from(SE)), 'A', 'the address entry comes first');
  }));

test('-B abuse server: the client denied for its country is sent there', { skip: geoipMissing() ?? false },
  () => scoped(async (s) => {
    const { db } = database(s);
    const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
    const abuse = s.backend(await startHttpNamed('ABUSE', { host: ip(13) }));
    const pen = s.pen(await penWithControl(ip(11), ['-B', abuse.spec, '-O', `geoip_db ${db}`,
      '-O', 'acl 2 deny country SE', '-O', 'client_acl 2'], [a.spec]));
    assert.equal(await whoAnswers(pen.endpoint, from(SE)), 'ABUSE');
    assert.equal(await whoAnswers(pen.endpoint, from(US)), 'A');
    assert.equal(await whoAnswers(pen.endpoint, from(SE)), 'ABUSE');
    assert.equal(abuse.requests, 2);
  }));

test('server N acl A with a country entry steers SE clients to the other server', { skip: geoipMissing() ?? false },
  () => scoped(async (s) => {
    const { db } = database(s);
    const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
    const b = s.backend(await startHttpNamed('B', { host: ip(23) }));
    const pen = s.pen(await penWithControl(ip(21), ['-r'], [a.spec, b.spec]));
    await set(pen.control, `geoip_db ${db}`, 'acl 5 deny country SE', 'server 0 acl 5');
    assert.deepEqual(await tallyRequests(pen.endpoint, 6, from(SE)), { B: 6 }, 'A\'s list denies SE');
    assert.deepEqual(await tallyRequests(pen.endpoint, 4, from(US)), { A: 2, B: 2 }, 'US may use both');
    await set(pen.control, 'server 1 acl 5');
    assert.equal(await outcome(pen.endpoint, from(SE)), 'denied', 'denied by every server: closed');
    assert.match(await outcome(pen.endpoint, from(US)), /^[AB]$/);
  }));

test('country entries apply to IPv6 clients (::1 is NO)', { skip: geoipMissing() ?? false }, async (t) => {
  if (!await hasIPv6Loopback()) {
    t.skip('no IPv6 loopback (::1) on this machine');
    return;
  }
  await scoped(async (s) => {
    const { db } = database(s);
    const a = s.backend(await startHttpNamed('A', { host: ip(32) }));
    const pen = s.pen(await penWithControl('::1', ['-O', `geoip_db ${db}`], [a.spec], { controlHost: ip(31) }));
    await set(pen.control, 'acl 3 deny country NO');
    assert.equal(await command(pen.control, 'client_acl 3'), '3\n');
    assert.equal(await outcome(pen.endpoint), 'denied', '::1 is in NO');
    await set(pen.control, 'no acl 3', 'acl 3 deny country SE');
    assert.equal(await outcome(pen.endpoint), 'A', 'NO is not SE');
  });
});

test('control_acl with a country entry: the SE control client is closed unanswered', { skip: geoipMissing() ?? false },
  () => scoped(async (s) => {
    const { db } = database(s);
    const a = s.backend(await startHttpNamed('A', { host: ip(42) }));
    const pen = s.pen(await penWithControl(ip(41), ['-O', `geoip_db ${db}`], [a.spec]));
    await set(pen.control, 'acl 4 deny country SE');
    assert.equal(await command(pen.control, 'control_acl 4', from(US)), '4\n');
    const denied = await exchange(pen.control, 'blacklist 99\n', from(SE));
    assert.equal(denied.bytes.length, 0, `no reply to SE: ${JSON.stringify(denied.bytes.toString())}`);
    assert.equal(await command(pen.control, 'blacklist', from(US)), '30\n', 'the denied command did not run');
    assert.equal(await command(pen.control, 'blacklist', from(UNLISTED)), '30\n', 'unknown country: admitted');
    assert.equal(await whoAnswers(pen.endpoint, from(SE)), 'A', 'control_acl does not touch the data plane');
  }));
