#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Node 20's --test does not expand globs, so the files are listed here. Extra arguments are
// passed on (e.g. a folder filter: `node scripts/run-tests.js unit`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', 'test');
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})(root);
if (files.length === 0 && !filters.some((f) => f.includes('native'))) {
  console.error('no test files found under dist/test (run npm run build:ts)');
  process.exit(1);
}

// Native targets (CMake option PEN_TESTS, built with plain cmake in build-tests/): the GoogleTest
// unit tests (test/native/*.cc) run here, before the node tests, when no filter is given or a
// filter names 'native'; pen_dsr_forward is the helper program the netns DSR tests drive.
const wantNative = filters.length === 0 || filters.some((f) => f.includes('native'));
const wantNetns = filters.length === 0 || filters.some((f) => f.includes('netns'));
let nativeStatus = 0;
if (wantNative || wantNetns) {
  const top = path.join(root, '..', '..');
  const dir = path.join(top, 'build-tests');
  const step = (args) => spawnSync('cmake', args, { stdio: 'inherit', cwd: top }).status === 0;
  const built = step(['-S', top, '-B', dir, '-DPEN_TESTS=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo'])
    && step(['--build', dir, '--target', 'pen_native_tests', 'pen_dsr_forward']);
  if (!built) {
    console.error('native test targets failed to build (Debian: libgtest-dev)');
    nativeStatus = 1;
  } else if (wantNative) {
    nativeStatus = spawnSync(path.join(dir, 'pen_native_tests'), [], { stdio: 'inherit' }).status ?? 1;
  }
}
if (files.length === 0) process.exit(nativeStatus);
const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
process.exit(nativeStatus || (r.status ?? 1));
