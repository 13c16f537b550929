#!/usr/bin/env node
// The end-to-end tests against an AddressSanitizer + UBSan build of the addon (issue 12), without
// touching build/ (what `npm test` and the bins load): the addon is built with
// -DPEN_SANITIZE=ON into build-asan/pkg/build/Debug, next to copies of package.json, bin/,
// dist/ and scripts/ (the package root node-gyp-build looks in is the one the loading file
// really lives under) and links to the rest; then the e2e tests run from there with the ASan
// runtime preloaded into node (the addon is the only instrumented code; leaks are not checked:
// node itself keeps memory until exit). A sanitizer report aborts pen, so the test that drove
// it fails; the reports are also collected and printed.
//
//   npm run test:asan [-- FILTER ...]     default filter: e2e
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = path.join(root, 'build-asan', 'pkg');
const logDir = path.join(root, 'build-asan', 'reports');

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

fs.rmSync(path.join(pkg, 'dist'), { recursive: true, force: true });
fs.mkdirSync(pkg, { recursive: true });
for (const d of ['bin', 'dist', 'scripts']) fs.cpSync(path.join(root, d), path.join(pkg, d), { recursive: true });
fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
// The rest as links: what the tests read (README.md, examples/, man/ ...) is the checkout's.
for (const d of ['node_modules', 'man', 'test', 'native', 'examples', 'README.md', 'LICENSE', 'CHANGELOG.md', 'CMakeLists.txt']) {
  const link = path.join(pkg, d);
  if (!fs.existsSync(link) && fs.existsSync(path.join(root, d))) fs.symlinkSync(path.join(root, d), link);
}
const cmakeJs = path.join(root, 'node_modules', '.bin', 'cmake-js');
if (run(cmakeJs, ['build', '--debug', '--directory', root, '--out', path.join(pkg, 'build'), '--CDPEN_SANITIZE=ON']) !== 0) {
  console.error('test:asan: the sanitizer build failed');
  process.exit(1);
}

const libasan = spawnSync('sh', ['-c', '${CXX:-g++} -print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
// The ASan runtime is preloaded into every process the tests start, so that node (the test
// files, pen) loads the instrumented addon; the other tools the tests drive get wrappers that
// drop it (some, like curl, hang with it).
const noPreload = path.join(root, 'build-asan', 'no-preload');
fs.rmSync(noPreload, { recursive: true, force: true });
fs.mkdirSync(noPreload, { recursive: true });
for (const tool of ['curl', 'openssl', 'wrk', 'haproxy', 'nginx', 'dig', 'mmdblookup', 'ip', 'python3', 'mkfifo', 'ethtool', 'nc', 'cc', 'gcc', 'getconf']) {
  const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (!real) continue;
  fs.writeFileSync(path.join(noPreload, tool), `#!/bin/sh\nunset LD_PRELOAD\nexec ${real} "$@"\n`, { mode: 0o755 });
}
fs.rmSync(logDir, { recursive: true, force: true });
fs.mkdirSync(logDir, { recursive: true });
const env = {
  ...process.env,
  PATH: `${noPreload}:${process.env.PATH ?? ''}`,
  LD_PRELOAD: libasan,
  PEN_TEST_TIME_SCALE: process.env.PEN_TEST_TIME_SCALE ?? '3', // an instrumented pen is slower
  ASAN_OPTIONS: `detect_leaks=0:abort_on_error=1:log_path=${path.join(logDir, 'asan')}`,
  UBSAN_OPTIONS: `halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=${path.join(logDir, 'ubsan')}`,
};
const filters = process.argv.slice(2);
const status = run(process.execPath, [path.join(pkg, 'scripts', 'run-tests.js'), ...(filters.length ? filters : ['e2e'])], env);
const reports = fs.readdirSync(logDir);
for (const f of reports) process.stderr.write(`--- ${f}\n${fs.readFileSync(path.join(logDir, f), 'utf8')}\n`);
if (reports.length > 0) console.error(`test:asan: ${reports.length} sanitizer report(s) (above)`);
process.exit(status !== 0 ? status : reports.length > 0 ? 1 : 0);
