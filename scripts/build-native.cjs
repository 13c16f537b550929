#!/usr/bin/env node
// npm run build:native (and so `prepare`): builds the addon into build/Release with cmake-js,
// incrementally. A build/ that cmake-js configured as a plain Release build is only brought up
// to date (`cmake-js build`: cmake --build recompiles what changed, reconfigures when
// CMakeLists.txt or native/sources.json changed), so an up-to-date addon costs about a second.
// Anything else (no build/, an ASan or Debug build, a node-gyp tree) is rebuilt from scratch.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const cache = path.join(root, 'build', 'CMakeCache.txt');
const text = fs.existsSync(cache) ? fs.readFileSync(cache, 'utf8') : '';
const plainRelease = /^CMAKE_BUILD_TYPE:STRING=Release$/m.test(text) && !/^PEN_SANITIZE:BOOL=ON$/m.test(text) &&
  !/^CMAKE_TOOLCHAIN_FILE:/m.test(text) && fs.realpathSync(path.dirname(cache)) === fs.realpathSync(path.join(root, 'build'));
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const args = [cmakeJs, plainRelease ? 'build' : 'rebuild', '--out', 'build'];
process.exit(spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root }).status ?? 1);
