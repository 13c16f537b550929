import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, PenError, formatError, isPenError, type PenErrorCode } from '../../lib/errors.js';

/** The checkout root: the nearest directory (from this file, else the cwd) holding penlb's package.json. */
function repoRoot(): string {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (let dir of starts) {
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

test('PenError fills the template and carries code, exitCode, kind', () => {
  const e = new PenError('PEN_ERR_SERVER_SPEC', { role: 'backend', spec: 'a:x', reason: 'is bad' });
  assert.ok(e instanceof Error);
  assert.ok(isPenError(e));
  assert.equal(e.name, 'PenError');
  assert.equal(e.code, 'PEN_ERR_SERVER_SPEC');
  assert.equal(e.message, 'backend "a:x" is bad');
  assert.equal(e.exitCode, 2);
  assert.equal(e.kind, 'config');
  assert.equal(e.hint, undefined);
  assert.equal(formatError(e), 'pen: backend "a:x" is bad');
});

test('usage errors carry the --help hint; formatError adds the program name', () => {
  const e = new PenError('PEN_ERR_USAGE', { detail: 'unknown option -k' });
  assert.equal(e.message, 'unknown option -k');
  assert.equal(e.hint, '(try pen --help)');
  assert.equal(formatError(e), 'pen: unknown option -k (try pen --help)');
  assert.equal(formatError(e, 'penlb'), 'penlb: unknown option -k (try pen --help)');
});

test('cause is kept', () => {
  const cause = new Error('EADDRINUSE');
  const e = new PenError('PEN_ERR_BIND', { address: '0.0.0.0:80', reason: 'address in use' }, { cause });
  assert.equal(e.cause, cause);
  assert.equal(e.message, 'cannot listen on 0.0.0.0:80: address in use');
  assert.equal(e.exitCode, 1);
});

test('resolve error keeps Pen\'s wording', () => {
  assert.equal(new PenError('PEN_ERR_RESOLVE', { host: 'nosuch' }).message, 'unknown or invalid address [nosuch]');
});

test('exit codes: invocation errors 2, system errors 1', () => {
  const two: PenErrorCode[] = ['PEN_ERR_USAGE', 'PEN_ERR_UNSUPPORTED', 'PEN_ERR_RANGE',
    'PEN_ERR_SERVER_SPEC', 'PEN_ERR_LISTEN_SPEC', 'PEN_ERR_CONFIG', 'PEN_ERR_TLS', 'PEN_ERR_GEOIP',
    'PEN_ERR_POLLER', 'PEN_ERR_WORKERS'];
  for (const code of Object.keys(ERRORS) as PenErrorCode[]) {
    assert.equal(ERRORS[code].exitCode, two.includes(code) ? 2 : 1, code);
    assert.match(code, /^PEN_ERR_[A-Z_]+$/);
  }
});

test('every code is documented in man/pen.1', () => {
  const man = readFileSync(join(repoRoot(), 'man', 'pen.1'), 'utf8');
  for (const code of Object.keys(ERRORS)) assert.ok(man.includes(code), `${code} missing from man/pen.1`);
});

test('every PEN_ERR_ code raised in lib/ or native/ has its row in lib/errors.ts', () => {
  const seen = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|cc|h)$/.test(e.name)) for (const m of readFileSync(p, 'utf8').matchAll(/PEN_ERR_[A-Z_]*[A-Z]/g)) seen.add(m[0]);
    }
  };
  walk(join(repoRoot(), 'lib'));
  walk(join(repoRoot(), 'native'));
  for (const code of seen) assert.ok(code in ERRORS, `${code} has no row in lib/errors.ts`);
});
