// `geoip_db` and country ACL entries through the command table (lib/control/commands/acl.ts):
// replies, refusals (no GeoIP build, no database), rendering, and control_acl's country check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aclPermits, compileAcls } from '../../lib/config/acl.js';
import { GEOIP_DEFAULT_PATHS, geoipDatabase } from '../../lib/config/geoip.js';
import { commandTable } from '../../lib/control/table.js';
import { renderConfig } from '../../lib/control/writer.js';
import { toSnapshot } from '../../lib/engine/to-snapshot.js';
import { makeContext, run } from './control-fixture.js';

test('geoip_db: show, set (made absolute), render; no geoip_db', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'geoip_db'), '', 'no database: empty reply');
  assert.equal(await run(ctx, 'geoip_db /var/lib/pen/c.mmdb'), '');
  assert.equal(ctx.settings().geoipDb, '/var/lib/pen/c.mmdb');
  assert.equal(await run(ctx, 'geoip_db'), '/var/lib/pen/c.mmdb\n');
  assert.equal(await run(ctx, 'geoip_db rel.mmdb', 'option'), '');
  assert.equal(ctx.settings().geoipDb, `${process.cwd()}/rel.mmdb`);
  assert.equal(await run(ctx, 'geoip_db a b'), 'pen: geoip_db: too many arguments; usage: geoip_db [FILE]\n');
  const text = renderConfig(commandTable(), ctx.settings(), { file: '/x.cfg', now: new Date() });
  assert.ok(text.includes(`\ngeoip_db ${process.cwd()}/rel.mmdb\n`));
  assert.equal(await run(ctx, 'no geoip_db'), '');
  assert.equal(ctx.settings().geoipDb, null);
  assert.ok(!renderConfig(commandTable(), ctx.settings(), { file: '/x.cfg', now: new Date() }).includes('geoip_db'),
    'not rendered when not set');
});

test('country entries: accepted with a database, in the model and the snapshot', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'geoip_db /db/c.mmdb'), '');
  assert.equal(await run(ctx, 'acl 3 deny country se'), '');
  assert.equal(await run(ctx, 'acl 3 permit 10.0.0.0 255.0.0.0'), '');
  assert.deepEqual(ctx.settings().acls[3]![0], { kind: 'country', permit: false, country: 'SE' });
  const text = renderConfig(commandTable(), ctx.settings(), { file: '/x.cfg', now: new Date() });
  assert.ok(text.includes('\nno acl 3\nacl 3 deny country SE\nacl 3 permit 10.0.0.0 255.0.0.0\n'));
  const snap = await toSnapshot({ ...ctx.settings(), servers: [] });
  assert.equal(snap.geoipDb, '/db/c.mmdb');
  assert.deepEqual(snap.acls[3]![0], { permit: false, country: 'SE' });
  assert.equal(await run(ctx, 'no geoip_db'),
    'pen: no geoip_db: list 3 has country entries and there is no default database; empty it first (no acl N)\n');
  assert.equal(ctx.settings().geoipDb, '/db/c.mmdb', 'refused: nothing changed');
  assert.equal(await run(ctx, 'no acl 3'), '');
  assert.equal(await run(ctx, 'no geoip_db'), '');
});

test('country entries: refused without a database, saying how to set one', async () => {
  const ctx = makeContext();
  assert.equal(await run(ctx, 'acl 1 permit country US'),
    'pen: acl: country entries need a GeoIP database: set one with geoip_db FILE (none given, and no ' +
    `${GEOIP_DEFAULT_PATHS.join(' or ')})\n`);
  assert.deepEqual(ctx.settings().acls[1], []);
  assert.equal(ctx.updates, 0);
});

test('a default database is used when geoip_db is not set', async () => {
  const ctx = makeContext();
  ctx.geoip = { supported: true, database: (s) => geoipDatabase(s, (f) => f === GEOIP_DEFAULT_PATHS[1]) };
  assert.equal(await run(ctx, 'geoip_db'), `${GEOIP_DEFAULT_PATHS[1]}\n`);
  assert.equal(await run(ctx, 'acl 2 deny country SE'), '');
  assert.equal(ctx.settings().geoipDb, null, 'the default is not frozen into the settings (nor written)');
  assert.equal(geoipDatabase('/given.mmdb', () => true), '/given.mmdb', 'a setting wins');
  assert.equal(geoipDatabase(null, () => false), null);
  assert.equal(geoipDatabase(null, (f) => f !== GEOIP_DEFAULT_PATHS[1]), GEOIP_DEFAULT_PATHS[0], 'first one first');
});

test('without libmaxminddb country entries and geoip_db are refused, saying what to install', async () => {
  const ctx = makeContext();
  ctx.geoip = { supported: false, database: (s) => s };
  const why = 'no GeoIP support: libmaxminddb is not installed (Debian/Ubuntu: apt-get install libmaxminddb0; ' +
    'FreeBSD: pkg install libmaxminddb), or the addon was built from source without maxminddb.h (libmaxminddb-dev)';
  assert.equal(await run(ctx, 'acl 1 deny country SE'), `pen: acl: ${why}\n`);
  assert.equal(await run(ctx, 'geoip_db /db/c.mmdb'), `pen: geoip_db: ${why}\n`);
  assert.equal(await run(ctx, 'geoip_db'), '');
  assert.equal(await run(ctx, 'acl 1 deny 10.0.0.1'), '', 'address entries still work');
  assert.equal(ctx.updates, 1);
});

test('a reload keeps country entries when the file sets geoip_db first', async () => {
  const ctx = makeContext();
  ctx.files.set('/pen.cfg', 'acl 1 deny country SE\ngeoip_db /db/c.mmdb\n');
  const { loadConfigFile } = await import('../../lib/control/reload.js');
  const bad = await loadConfigFile(ctx, '/pen.cfg', ctx.settings(), { startup: true });
  assert.equal(bad.errors.length, 1, 'in this order the acl line has no database yet');
  assert.match(bad.errors[0]!.reply, /country entries need a GeoIP database/);
  ctx.files.set('/pen.cfg', 'geoip_db /db/c.mmdb\nacl 1 deny country SE\n');
  const good = await loadConfigFile(ctx, '/pen.cfg', ctx.settings(), { startup: true });
  assert.deepEqual(good.errors, []);
  assert.deepEqual(ctx.settings().acls[1], [{ kind: 'country', permit: false, country: 'SE' }]);
});

test("control_acl's country entries ask the engine", () => {
  const ctx = makeContext();
  ctx.engine.countries.set('127.0.0.2', 'SE');
  const [l] = compileAcls([[{ kind: 'country', permit: false, country: 'SE' }, { kind: 'ipv4', permit: true,
    address: '127.0.0.0', mask: '255.0.0.0' }]]);
  const countryOf = (ip: string) => ctx.engine.countryOf(ip);
  assert.equal(aclPermits(l!, '127.0.0.2', countryOf), false);
  assert.equal(aclPermits(l!, '127.0.0.3', countryOf), true);
});
