#!/usr/bin/env node
// npm "install" hook (runs only when npm runs install scripts; the package must and does work
// without it). Never downloads anything.
//   - In a checkout (cmake-js installed, CMakeLists.txt present): nothing; "prepare" builds.
//   - A shipped prebuild (prebuilds/<platform>-<arch>/) loads here: nothing to do.
//   - Else builds the addon from binding.gyp with the node-gyp that npm bundles, against the
//     headers of the node running this (--nodedir, so node-gyp fetches none), when a C++
//     compiler, make and python3 are installed and node's headers are there.
//   - Else exits 1 with one message naming what to install.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
if (fs.existsSync(path.join(root, 'node_modules', 'cmake-js')) && fs.existsSync(path.join(root, 'CMakeLists.txt'))) process.exit(0);

const here = `${process.platform}-${process.arch}`;
let why;
try {
  process.env.PREBUILDS_ONLY = '1';
  require(require('node-gyp-build').resolve(root));
  process.exit(0);
} catch (err) {
  why = err.message.split('\n')[0];
}

const onPath = (p) => (process.env.PATH || '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, p)));
const make = process.platform === 'linux' ? 'make' : 'gmake';
const nodedir = path.resolve(process.execPath, '..', '..');
const missing = [];
if (!['c++', 'g++', 'clang++'].some(onPath)) missing.push('a C++ compiler');
if (!onPath(make)) missing.push(make);
if (!onPath('python3')) missing.push('python3');
if (!fs.existsSync(path.join(nodedir, 'include', 'node', 'common.gypi'))) missing.push(`Node.js headers in ${nodedir}/include/node`);
const nodeGyp = [process.env.npm_config_node_gyp,
  path.join(nodedir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find((f) => f && fs.existsSync(f));
if (!nodeGyp) missing.push("npm's node-gyp");

if (missing.length > 0) {
  console.error(
    `penlb: no prebuilt data plane loads on ${here} (${why}); prebuilds ship for linux-x64 and linux-arm64 ` +
      `with glibc >= 2.34. Building it here needs ${missing.join(', ')}: install them ` +
      '(Debian/Ubuntu: apt-get install g++ make python3 libssl-dev libmaxminddb-dev; ' +
      'FreeBSD: pkg install gmake python3 libmaxminddb, node headers come with the node package), ' +
      'then run: npm rebuild penlb --foreground-scripts',
  );
  process.exit(1);
}
const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
