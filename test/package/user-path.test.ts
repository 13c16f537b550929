// What a user does with the npm package, start to end: `npm pack` (which builds the prebuilds,
// scripts/prebuilds.cjs), install the tarball into an empty folder with install scripts off
// (as npm 11 does for dependencies by default), from npm's cache where it can (--prefer-offline:
// the dependencies' metadata comes from the registry when it is not cached), then `npx pen` in front of a
// real backend, a reply through it, and `npx penctl` against it. The installed package has no
// build/: the addon that runs is the shipped prebuild. Slow (a pack, an install), so it is not
// part of `npm test`: `npm run test:package` (.ci/run runs it).
// Block 131 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startHttpNamed } from '../helpers/backends.js';
import { httpGet } from '../helpers/clients.js';
import { isRoot } from '../helpers/control.js';
import { freePort, loopback, removeDir, tempDir } from '../helpers/net.js';
import { scoped } from '../helpers/scope.js';
import { waitFor, withTimeout } from '../helpers/time.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ip = loopback(131);
const npm = (args: string[], cwd: string, timeout: number) =>
  spawnSync('npm', args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });

/** Kills the process group of a detached child (npx and the pen it runs) and waits for it. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  await withTimeout(gone, 5000, 'npx pen to exit').catch(() => process.kill(-child.pid!, 'SIGKILL'));
}

test('npm pack, install the tarball without scripts, npx pen balances and npx penctl controls it', { timeout: 900_000 },
  () => scoped(async (s) => {
    const work = tempDir('userpath');
    s.defer(() => removeDir(work));
    const packed = npm(['pack', '--json', '--pack-destination', work], root, 600_000);
    assert.equal(packed.status, 0, `npm pack: ${packed.stderr.slice(-2000)}`);
    // The scripts npm pack runs (prepack, prepare) print on the same stdout, before the JSON.
    const info = (JSON.parse(packed.stdout.slice(packed.stdout.lastIndexOf('[\n  {'))) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[])[0]!;
    const files = info.files.map((f) => f.path);
    for (const f of ['prebuilds/linux-x64/penlb.glibc.node', 'prebuilds/linux-arm64/penlb.glibc.node', 'bin/pen.js',
      'bin/penctl.js', 'dist/lib/engine/native.js', 'CHANGELOG.md'])
      assert.ok(files.includes(f), `the tarball holds ${f}`);
    assert.deepEqual(files.filter((f) => /^(build|build-prebuilds|test|dist\/test)\//.test(f)), [], 'no build trees or tests');

    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    const t0 = performance.now();
    const installed = npm(['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', path.join(work, info.filename)], app, 300_000);
    assert.equal(installed.status, 0, `npm install: ${installed.stderr.slice(-2000)}`);
    const installMs = performance.now() - t0;
    const pkg = path.join(app, 'node_modules', 'penlb');
    assert.equal(fs.existsSync(path.join(pkg, 'build')), false, 'nothing was built: the prebuild is what runs');

    const backend = await startHttpNamed('b1', { host: ip(2) });
    s.defer(() => backend.close());
    const port = await freePort(ip(1));
    const cport = await freePort(ip(1));
    const pen = spawn('npx', ['--offline', 'pen', '-f', ...(isRoot() ? ['-u', 'root'] : []), '-C', `${ip(1)}:${cport}`,
      `${ip(1)}:${port}`, backend.spec], { cwd: app, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    pen.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    s.defer(() => stopGroup(pen));
    const answer = await waitFor(async () => {
      if (pen.exitCode !== null) throw new Error(`npx pen exited ${pen.exitCode}: ${err}`);
      return httpGet({ host: ip(1), port }, { timeoutMs: 2000 }).then((a) => a.body, () => null);
    }, 30_000, `npx pen to answer on ${ip(1)}:${port} (stderr: ${err})`);
    assert.equal(answer, 'b1');

    const ctl = npm(['exec', '--offline', '--', 'penctl', `${ip(1)}:${cport}`, 'servers'], app, 30_000);
    assert.equal(ctl.status, 0, `npx penctl: ${ctl.stderr}`);
    const [host, bport] = backend.spec.split(':');
    assert.match(ctl.stdout, new RegExp(`^0 addr ${host!.replace(/\./g, '\\.')} port ${bport} `, 'm'), ctl.stdout);

    // The install script (npm runs it only when scripts are allowed): the prebuild loads, so
    // nothing to do; without a matching prebuild and without a toolchain, one message naming
    // what to install, and no download (PATH holds only node: no compiler, make, python3).
    const bare = path.join(work, 'bare-bin');
    fs.mkdirSync(bare);
    fs.symlinkSync(process.execPath, path.join(bare, 'node'));
    const install = () => spawnSync(process.execPath, [path.join(pkg, 'scripts', 'install.cjs')],
      { cwd: pkg, encoding: 'utf8', timeout: 60_000, env: { PATH: bare, HOME: work } });
    assert.equal(install().status, 0, 'a loadable prebuild needs nothing');
    fs.renameSync(path.join(pkg, 'prebuilds'), path.join(pkg, 'prebuilds.away'));
    const r = install();
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^penlb: no prebuilt data plane loads on ${process.platform}-${process.arch} \\(.*\\); ` +
      'prebuilds ship for linux-x64 and linux-arm64 with glibc >= 2.34\\. Building it here needs a C\\+\\+ compiler, make, python3: ' +
      'install them \\(Debian/Ubuntu: apt-get install g\\+\\+ make python3'), r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one message');
    fs.renameSync(path.join(pkg, 'prebuilds.away'), path.join(pkg, 'prebuilds'));
    console.log(`# tarball ${info.filename}: ${info.size} bytes, unpacked ${info.unpackedSize}; install from it: ${installMs} ms`);
  }));
