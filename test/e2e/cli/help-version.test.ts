// Every bin answers --help (usage on stdout, exit 0) and --version ("NAME VERSION" from
// package.json, exit 0), before anything else it would do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(`${root}package.json`, 'utf8')) as { version: string; bin: Record<string, string> };

for (const [name, file] of Object.entries(pkg.bin)) {
  test(`${name} --help and --version`, () => {
    const run = (arg: string) => spawnSync(process.execPath, [`${root}${file}`, arg], { encoding: 'utf8', timeout: 10000 });
    const version = run('--version');
    assert.equal(version.status, 0, version.stderr);
    const program = name === 'penlb' ? 'pen' : name;
    assert.equal(version.stdout, `${program} ${pkg.version}\n`);
    const help = run('--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage:?\\s.*${program}`, 'is'));
    assert.match(help.stdout, /--version/);
    assert.equal(help.stderr, '');
  });
}
