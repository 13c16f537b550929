import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageText } from '../../lib/config/usage.js';
import { parseArgv } from '../../lib/config/argv.js';

/** The checkout root: the nearest directory (from this file, else the cwd) holding penlb's package.json. */
function repoRoot(): string {
  for (let dir of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (;;) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'penlb') return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('penlb checkout not found');
}

const LETTERS = 'BCFOSTbcijlmopqtuwxDHNPQWXUadfhneKGAZRLE';
const text = usageText();
const line = (letter: string): string => {
  const found = text.split('\n').find((l) => l.trimStart().startsWith(`-${letter} `));
  assert.ok(found, `-${letter} missing from usage`);
  return found;
};

test('starts with usage: and ends with a newline', () => {
  assert.ok(text.startsWith('usage:'));
  assert.ok(text.endsWith('\n'));
  assert.match(text, /pen \[options\] LISTEN BACKEND/);
});

test('every option letter has a line', () => {
  for (const letter of LETTERS) line(letter);
  assert.match(text, /--help/);
  assert.match(text, /--version/);
  assert.match(text, /-\?/);
});

test('defaults are substituted', () => {
  assert.match(line('T'), /\[0\]/);
  assert.match(line('b'), /\[30\]/);
  assert.match(line('c'), /\[2048\]/);
  assert.match(line('t'), /\[3\]/);
  assert.match(line('x'), /\[500\]/);
  assert.match(line('m'), /\[100\]/);
  assert.match(line('q'), /\[500\]/);
});

test('options refused by argv are marked, the others are not', () => {
  for (const letter of LETTERS) {
    let refused = false;
    try {
      parseArgv([`-${letter}`, '1', '80', 'a']);
    } catch (e: any) {
      refused = e.code === 'PEN_ERR_UNSUPPORTED';
    }
    const marked = /not supported|not implemented/.test(line(letter));
    assert.equal(marked, refused, `-${letter}: ${line(letter)}`);
  }
});

test('examples', () => {
  assert.match(text, /pen 80 www1:8080 www2:8080/);
  assert.match(text, /pen -f -r 8080 127\.0\.0\.1:8001 127\.0\.0\.1:8002/);
});

test('the examples parse', () => {
  for (const ex of text.split('\n').filter((l) => l.startsWith('  pen ') && !l.includes('['+'options'))) {
    const argv = ex.trim().split(/ +/).slice(1);
    assert.equal(parseArgv(argv).action, 'run', ex);
  }
});

test('man/pen.1 documents every option letter and both examples', () => {
  const man = readFileSync(join(repoRoot(), 'man', 'pen.1'), 'utf8');
  for (const letter of LETTERS) assert.ok(man.includes(`\\-${letter}`), `-${letter} missing from man/pen.1`);
  assert.ok(man.includes('pen 80 www1:8080 www2:8080'));
  assert.ok(man.includes('pen \\-f \\-r 8080 127.0.0.1:8001 127.0.0.1:8002'));
  assert.match(man, /^\.TH PEN 1/m);
});
