// What the native addon needs from the machine it loads on (readelf, from binutils): the
// checkout's build/Release addon and, when `npm run prebuilds` made them, the prebuilds that
// the npm package ships. A prebuild must load on a Debian/Ubuntu server that has only Node.js:
// no shared library beyond the C/C++ runtimes that node itself needs, libmaxminddb loaded at
// run time (dlopen), OpenSSL resolved from node (never libssl linked), and no glibc/libstdc++
// symbol version newer than the floor README states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** The oldest glibc / libstdc++ the prebuilds load with (Debian 12, Ubuntu 22.04, RHEL 9). */
const FLOOR = { GLIBC: '2.34', GLIBCXX: '3.4.29', CXXABI: '1.3.13' } as const;
const RUNTIMES = /^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
const PREBUILDS = [
  { dir: 'linux-x64', machine: 'Advanced Micro Devices X86-64' },
  { dir: 'linux-arm64', machine: 'AArch64' },
];

function readelf(args: string[], file: string): string {
  const r = spawnSync('readelf', ['-W', ...args, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`readelf (binutils) is needed: ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function needed(file: string): string[] {
  return [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

/** The newest version of each of GLIBC, GLIBCXX, CXXABI the file asks for. */
function newestVersions(file: string): Record<string, string> {
  const newest: Record<string, string> = {};
  for (const m of readelf(['-V'], file).matchAll(/Name: (GLIBC|GLIBCXX|CXXABI)_([0-9.]+)/g)) {
    const [lib, v] = [m[1]!, m[2]!];
    if (newest[lib] === undefined || compare(v, newest[lib]!) > 0) newest[lib] = v;
  }
  return newest;
}

function compare(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

test('version comparison', () => {
  assert.ok(compare('2.34', '2.4') > 0);
  assert.ok(compare('3.4.29', '3.4.3') > 0);
  assert.equal(compare('2.34', '2.34.0'), 0);
});

const built = path.join(root, 'build', 'Release', 'pen_native.node');
test('the built addon links neither libmaxminddb nor OpenSSL', { skip: fs.existsSync(built) ? false : 'no build/Release addon' }, () => {
  const libs = needed(built);
  assert.ok(libs.includes('libc.so.6'), `readelf found the NEEDED list: ${libs.join(' ')}`);
  assert.deepEqual(libs.filter((l) => /maxminddb|libssl|libcrypto/.test(l)), []);
});

for (const p of PREBUILDS) {
  const file = path.join(root, 'prebuilds', p.dir, 'penlb.glibc.node');
  test(`prebuilds/${p.dir}: only the C/C++ runtimes, nothing newer than glibc ${FLOOR.GLIBC}`,
    { skip: fs.existsSync(file) ? false : `no ${p.dir} prebuild (npm run prebuilds makes it)` }, () => {
      assert.match(readelf(['-h'], file), new RegExp(`Machine:\\s+${p.machine}`));
      const libs = needed(file);
      assert.ok(libs.includes('libc.so.6'), libs.join(' '));
      assert.deepEqual(libs.filter((l) => !RUNTIMES.test(l)), [], 'libraries a server with only Node.js may lack');
      const newest = newestVersions(file);
      assert.ok(newest.GLIBC, 'readelf -V found the glibc versions');
      for (const [lib, v] of Object.entries(newest))
        assert.ok(compare(v, FLOOR[lib as keyof typeof FLOOR]) <= 0, `${lib}_${v} is newer than the floor ${FLOOR[lib as keyof typeof FLOOR]}`);
      assert.doesNotMatch(readelf(['--dyn-syms'], file), /\bFUNC\s+GLOBAL\s+DEFAULT\s+UND\s+MMDB_/, 'no MMDB_ symbol bound at load time');
    });
}
