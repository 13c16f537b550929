#!/usr/bin/env node
// prebuildify spawns "node-gyp rebuild --target=.. --arch=.. --release"; this maps that onto
// cmake-js (the one real build, CMakeLists.txt) so prebuilds come from the same description.
const { spawnSync } = require('child_process');
const path = require('path');
const args = process.argv.slice(2);
const get = (k) => (args.find((a) => a.startsWith(`--${k}=`)) || '').split('=')[1];
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
// Prebuilds leave libmaxminddb out: they must load on machines that lack libmaxminddb.so
// (with -z now a missing library fails the whole addon). A build from source uses it when found.
const out = [cmakeJs, 'rebuild', '--out', 'build', '--CDPEN_GEOIP=OFF'];
if (get('arch')) out.push('--arch', get('arch'));
if (args.includes('--debug')) out.push('--debug');
process.exit(spawnSync(process.execPath, out, { stdio: 'inherit' }).status ?? 1);
