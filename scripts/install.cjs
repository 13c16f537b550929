#!/usr/bin/env node
// npm "install" hook. In a checkout (cmake-js present) the "prepare" script builds the addon,
// so nothing happens here. In an installed package it defers to node-gyp-build, which uses a
// shipped prebuild or, failing that, builds with node-gyp from binding.gyp.
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
if (fs.existsSync(path.join(root, 'node_modules', 'cmake-js')) && fs.existsSync(path.join(root, 'CMakeLists.txt'))) process.exit(0);
const { spawnSync } = require('child_process');
const bin = require.resolve('node-gyp-build/bin.js');
process.exit(spawnSync(process.execPath, [bin], { stdio: 'inherit', cwd: root }).status ?? 1);
