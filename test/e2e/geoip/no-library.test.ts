// The addon loads libmaxminddb.so.0 at run time (native/geo/db.cc): on a machine without it
// the addon still loads, reports no GeoIP (maxminddb null), and a database is refused with a
// message saying what to install. The library is hidden from one child process by a private
// mount namespace (root only) in which /dev/null is bound over it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { geoipMissing } from '../../helpers/geoip.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** Where the dynamic loader finds libmaxminddb.so.0 for this architecture, or null. */
function libraryFile(): string | null {
  const r = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const arch = process.arch === 'x64' ? 'x86-64' : process.arch === 'arm64' ? 'AArch64' : process.arch;
  const line = (r.stdout ?? '').split('\n').find((l) => l.includes('libmaxminddb.so.0 ') && l.includes(arch));
  return line ? line.split(' => ')[1]!.trim() : null;
}

// Runs in the child: loads the checkout's addon and opens a database through it.
const PROBE = `
import { loadAddon } from '${root}dist/lib/engine/native.js';
import { defaultSettings } from '${root}dist/lib/config/settings.js';
import { toSnapshot } from '${root}dist/lib/engine/to-snapshot.js';
const addon = loadAddon();
const engine = new addon.Engine({ poller: 'default' });
const settings = defaultSettings();
settings.geoipDb = '/nonexistent/c.mmdb';
let refusal = null;
try { engine.configure(await toSnapshot(settings)); } catch (e) { refusal = e.code + ' ' + e.message; }
engine.close();
console.log(JSON.stringify({ maxminddb: addon.maxminddb, refusal }));
`;

const lib = libraryFile();
const skip = geoipMissing() !== null ? 'the addon was built without maxminddb.h'
  : process.getuid?.() !== 0 ? 'hiding the library needs a mount namespace (root)'
  : lib === null ? 'libmaxminddb.so.0 is not installed' : false;

test('without libmaxminddb.so.0 the addon loads and a database is refused naming what to install', { skip }, () => {
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind /dev/null "$1" && shift && exec "$@"', 'sh', lib!,
    process.execPath, '--input-type=module', '-e', PROBE], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `stderr: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { maxminddb: string | null; refusal: string | null };
  assert.equal(out.maxminddb, null);
  assert.equal(out.refusal, "PEN_ERR_GEOIP GeoIP database '/nonexistent/c.mmdb': libmaxminddb is not installed: " +
    'libmaxminddb.so.0 could not be loaded (Debian/Ubuntu: apt-get install libmaxminddb0; FreeBSD: pkg install libmaxminddb)');
});

test('with libmaxminddb.so.0 installed the addon reports its version', { skip: geoipMissing() ?? (lib === null ? 'not installed' : false) }, () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `stderr: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { maxminddb: string | null; refusal: string | null };
  assert.match(out.maxminddb ?? '', /^\d+\.\d+/);
  assert.match(out.refusal ?? '', /GeoIP database '\/nonexistent\/c\.mmdb': /);
  assert.doesNotMatch(out.refusal ?? '', /not installed/);
});
