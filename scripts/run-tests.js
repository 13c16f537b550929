#!/usr/bin/env node
// Runs every test: the native unit tests (test/native/*.cc, built with CMake and GoogleTest
// into build/native-tests), then every compiled test file (dist/test/**/*.test.js) with node's
// test runner. Node 20's --test does not expand globs, so the files are listed here. Extra
// arguments filter by path (e.g. `node scripts/run-tests.js unit`; `native` runs only the
// native unit tests; `netns` also builds pen_dsr_forward, which those tests drive). The tests
// under test/package/ (npm pack, install the tarball: minutes) run only when a filter names
// them (npm run test:package).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const root = path.join(repo, 'dist', 'test');
const filters = process.argv.slice(2);
const wants = (p) => filters.length === 0 || filters.some((f) => p.includes(f));

/* Builds and runs pen_native_tests; returns its exit status. */
function nativeTests() {
  const dir = path.join(repo, 'build', 'native-tests');
  const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', cwd: repo }).status ?? 1;
  if (!fs.existsSync(path.join(dir, 'CMakeCache.txt'))) {
    const ninja = spawnSync('ninja', ['--version']).status === 0;
    const status = run('cmake', ['-S', '.', '-B', dir, '-DPEN_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release', ...(ninja ? ['-G', 'Ninja'] : [])]);
    if (status !== 0) {
      console.error('native unit tests: cmake could not configure them (GoogleTest: apt-get install libgtest-dev)');
      return status;
    }
  }
  const targets = ['pen_native_tests', ...(wants('netns') ? ['pen_dsr_forward'] : [])];
  const built = run('cmake', ['--build', dir, '--target', ...targets]);
  if (built !== 0) return built;
  return wants('native') ? run(path.join(dir, 'pen_native_tests'), ['--gtest_brief=1']) : 0;
}

let status = 0;
// the netns tests drive pen_dsr_forward, built beside the native tests
if (wants('native') || wants('netns')) status = nativeTests();

const files = [];
(function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && wants(p) && (filters.length > 0 || !p.includes(`${path.sep}package${path.sep}`))) files.push(p);
  }
})(root);
if (files.length === 0 && !wants('native')) {
  console.error('no test files found under dist/test (run npm run build:ts)');
  process.exit(1);
}
if (files.length > 0) {
  const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
  if (status === 0) status = r.status ?? 1;
}
process.exit(status);
