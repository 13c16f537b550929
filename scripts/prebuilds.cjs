#!/usr/bin/env node
// npm run prebuilds (and so `prepack`: npm pack / npm publish): builds the addon for every
// platform the package ships a binary for, from the one CMakeLists.txt, and puts it where
// node-gyp-build looks: prebuilds/<platform>-<arch>/penlb.glibc.node.
//   linux-x64   native build (run this on Linux x64 with glibc)
//   linux-arm64 cross build with cmake/aarch64-linux-gnu.cmake (Debian: g++-aarch64-linux-gnu,
//               libssl-dev:arm64, libmaxminddb-dev:arm64; see .ci/run)
// Each target has its own cmake-js tree under build-prebuilds/, brought up to date
// incrementally, so packing twice does not compile twice; build/ (the checkout's addon) is
// left alone. Symbols are stripped; libstdc++/libgcc_s stay shared (node itself needs them).
// FreeBSD has no prebuild: it builds from source at install (scripts/install.cjs).
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const TARGETS = [
  { name: 'linux-x64', arch: 'x64', configure: [] },
  { name: 'linux-arm64', arch: 'arm64', configure: [`--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'aarch64-linux-gnu.cmake')}`],
    needs: { program: 'aarch64-linux-gnu-g++', install: 'apt-get install g++-aarch64-linux-gnu' } },
];

function fail(message) {
  console.error(`prebuilds: ${message}`);
  process.exit(1);
}

function onPath(program) {
  return (process.env.PATH || '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, program)));
}

if (process.platform !== 'linux' || process.arch !== 'x64')
  fail(`prebuilds are made on Linux x64 (this is ${process.platform}-${process.arch})`);
for (const t of TARGETS) {
  if (t.needs && !onPath(t.needs.program)) fail(`${t.name} needs ${t.needs.program} (Debian/Ubuntu: ${t.needs.install})`);
  const work = path.join('build-prebuilds', t.name);
  const configured = fs.existsSync(path.join(root, work, 'CMakeCache.txt'));
  // Configure options only apply when cmake-js configures, i.e. for a new tree.
  const args = [cmakeJs, 'build', '--out', work, '--arch', t.arch, '--CDCMAKE_SHARED_LINKER_FLAGS=-s', ...t.configure];
  console.error(`prebuilds: ${t.name} (${configured ? 'bringing up to date' : 'configuring'} ${work})`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) fail(`the ${t.name} build failed`);
  const out = path.join(root, 'prebuilds', t.name);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  fs.copyFileSync(path.join(root, work, 'Release', 'pen_native.node'), path.join(out, 'penlb.glibc.node'));
}
