// The GeoIP database of a running pen: `geoip_db FILE` over penctl (a bad file is refused with
// libmaxminddb's reason and the previous database keeps serving), a database replaced on disk
// and picked up by HUP, write -> restart keeping geoip_db, a bad database at start-up, and
// the addon's own view (countryOf, configure's refusals).
// Block 122 (see test/helpers/net.ts): pens on .1/.11/..., backends next to them, clients .100+.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { geoipDatabase } from '../../../lib/config/geoip.js';
import { defaultSettings } from '../../../lib/config/settings.js';
import { loadAddon } from '../../../lib/engine/native.js';
import { toSnapshot } from '../../../lib/engine/to-snapshot.js';
import { startHttpNamed } from '../../helpers/backends.js';
import { httpGet } from '../../helpers/clients.js';
import { command, penWithControl, runPenctl, userArgs, waitControl } from '../../helpers/control.js';
import { geoipMissing, writeCountryDb } from '../../helpers/geoip.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { runPen, startPen } from '../../helpers/pen.js';
import { scoped, type Scope } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(122);
const CLIENT = ip(100);
const skip = geoipMissing() ?? false;

type Where = { host: string; port: number };

/** Who answers a GET from CLIENT through pen, or 'denied'. */
async function outcome(e: Where): Promise<string> {
  try {
    return (await httpGet(e, { timeoutMs: 3000, localAddress: CLIENT })).body;
  } catch (err) {
    if (/no HTTP answer|ECONNRESET|EPIPE|closed/.test((err as Error).message)) return 'denied';
    throw err;
  }
}

function dir(s: Scope): string {
  const d = tempDir('geodb');
  s.defer(() => removeDir(d));
  return d;
}

test('geoip_db over penctl: a bad file is refused naming it, the previous database keeps serving', { skip },
  () => scoped(async (s) => {
    const d = dir(s);
    const se = writeCountryDb(d, 'se.mmdb', { [`${CLIENT}/32`]: 'SE' });
    const us = writeCountryDb(d, 'us.mmdb', { [`${CLIENT}/32`]: 'US' }, { recordSize: 24 });
    const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
    const pen = s.pen(await penWithControl(ip(1), ['-O', `geoip_db ${se}`, '-O', 'acl 1 deny country SE',
      '-O', 'client_acl 1'], [a.spec]));
    assert.equal(await outcome(pen.endpoint), 'denied', 'the client is in SE');

    const garbage = path.join(d, 'garbage.mmdb');
    fs.writeFileSync(garbage, 'not a MaxMind DB\n');
    assert.equal(await command(pen.control, `geoip_db ${garbage}`),
      `pen: geoip_db: GeoIP database '${garbage}': The MaxMind DB file contains invalid metadata\n`);
    const missing = path.join(d, 'missing.mmdb');
    const r = await runPenctl([pen.ctl, 'geoip_db', missing]);
    assert.equal(r.stdout, `pen: geoip_db: GeoIP database '${missing}': Error opening the specified MaxMind DB file ` +
      '(No such file or directory)\n');
    assert.notEqual(r.code, 0, 'penctl reports the error');
    assert.equal(await command(pen.control, `geoip_db ${d}`),
      `pen: geoip_db: GeoIP database '${d}': not a regular file\n`, 'a directory is named as such');
    assert.equal(await command(pen.control, 'geoip_db'), `${se}\n`, 'the setting did not change');
    assert.equal(await outcome(pen.endpoint), 'denied', 'still matched against the previous database');

    assert.equal(await command(pen.control, `geoip_db ${us}`), '', 'a 24-bit database works too');
    assert.equal(await outcome(pen.endpoint), 'A', 'the client is in US now');
  }));

test('HUP reopens a database replaced on disk; a broken replacement leaves the old one serving, once warned', { skip },
  () => scoped(async (s) => {
    const d = dir(s);
    const db = writeCountryDb(d, 'c.mmdb', { [`${CLIENT}/32`]: 'US' });
    const a = s.backend(await startHttpNamed('A', { host: ip(12) }));
    const pen = s.pen(await penWithControl(ip(11), ['-O', `geoip_db ${db}`, '-O', 'acl 1 deny country SE',
      '-O', 'client_acl 1'], [a.spec]));
    assert.equal(await outcome(pen.endpoint), 'A');

    writeCountryDb(d, 'c.mmdb', { [`${CLIENT}/32`]: 'SE' }); // as geoipupdate does: a new file renamed over
    assert.equal(await outcome(pen.endpoint), 'A', 'nothing re-read yet');
    process.kill(pen.pid, 'SIGHUP');
    await waitFor(async () => (await outcome(pen.endpoint)) === 'denied', 5000, 'the new database after HUP');

    fs.writeFileSync(`${db}.tmp`, 'broken');
    fs.renameSync(`${db}.tmp`, db);
    process.kill(pen.pid, 'SIGHUP');
    await waitFor(() => pen.stderr().includes(`GeoIP database '${db}': The MaxMind DB file contains invalid metadata`),
      5000, 'the HUP error in the log');
    assert.equal(await outcome(pen.endpoint), 'denied', 'the previous database still serves');
    assert.equal(await command(pen.control, 'acl 2 deny country NO'), '', 'settings changes still work meanwhile');
    assert.equal(await command(pen.control, 'acl 2 deny country NO'), '', 'and the warning is not repeated');
    const warnings = pen.stderr().split('GeoIP database').length - 1;
    assert.equal(warnings, 1, `one warning for the bad file, got:\n${pen.stderr()}`);
  }));

test('write -> restart keeps geoip_db (before the acl lines that need it)', { skip }, () => scoped(async (s) => {
  const d = dir(s);
  const db = writeCountryDb(d, 'c.mmdb', { [`${CLIENT}/32`]: 'SE' });
  const a = s.backend(await startHttpNamed('A', { host: ip(22) }));
  const pen1 = s.pen(await penWithControl(ip(21), [], [a.spec]));
  for (const line of [`geoip_db ${db}`, 'acl 7 deny country SE', 'acl 7 permit 127.0.0.0 255.0.0.0']) {
    assert.equal(await command(pen1.control, line), '', line);
  }
  assert.equal(await command(pen1.control, 'client_acl 7'), '7\n');
  const file = path.join(d, 'saved.cfg');
  assert.equal(await command(pen1.control, `write ${file}`), '');
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, new RegExp(`\\ngeoip_db ${db}\\nno acl 0\\n`));
  assert.match(text, /\nno acl 7\nacl 7 deny country SE\nacl 7 permit 127\.0\.0\.0 255\.0\.0\.0\n/);

  assert.equal((await pen1.stop('SIGTERM', 3000)).code, 0);
  const pen2 = s.pen(await startPen([...userArgs(), '-C', pen1.ctl, '-F', file], { ready: pen1.endpoint }));
  await waitControl(pen2.pid, pen1.control);
  assert.equal(await command(pen1.control, 'geoip_db'), `${db}\n`);
  assert.equal(await outcome(pen1.endpoint), 'denied', 'the restarted pen denies SE');
}));

test('a bad geoip_db at start-up stops pen with PEN_ERR_GEOIP naming the file', { skip }, () => scoped(async (s) => {
  const d = dir(s);
  const bad = path.join(d, 'bad.mmdb');
  fs.writeFileSync(bad, '');
  const r = await runPen(['-f', '-O', `geoip_db ${bad}`, `${ip(31)}:0`, `${ip(32)}:80`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`GeoIP database '${bad}': `));
}));

test('the addon: countryOf, and configure refusing what could never match', { skip }, () => scoped(async (s) => {
  const d = dir(s);
  const db = writeCountryDb(d, 'c.mmdb', { '10.0.0.0/8': 'DE', '2001:db8::/32': 'FR', [`${CLIENT}/32`]: 'SE' });
  const addon = loadAddon();
  const engine = new addon.Engine({ poller: 'default' });
  s.defer(() => engine.close());
  const settings = defaultSettings();
  settings.acls[1] = [{ kind: 'country', permit: false, country: 'SE' }];
  if (geoipDatabase(null) === null) { // no default database on this machine
    const snap = await toSnapshot(settings);
    assert.throws(() => engine.configure(snap), { code: 'PEN_ERR_GEOIP', message: /country ACL entries need a GeoIP database/ });
  }
  assert.equal(engine.countryOf('10.1.2.3'), null, 'no database yet');
  settings.geoipDb = db;
  engine.configure(await toSnapshot(settings));
  assert.equal(engine.countryOf('10.1.2.3'), 'DE');
  assert.equal(engine.countryOf('::ffff:10.1.2.3'), 'DE', 'IPv4-mapped clients are IPv4');
  assert.equal(engine.countryOf('2001:db8::7'), 'FR');
  assert.equal(engine.countryOf(CLIENT), 'SE');
  assert.equal(engine.countryOf('192.0.2.1'), null, 'not in the database');
  assert.throws(() => engine.countryOf('nonsense'), /'nonsense' is not an IPv4 or IPv6 address/);
}));
