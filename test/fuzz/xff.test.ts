// The native fuzz target of the -H rewriter (native/fuzz/xff_fuzz.cc) under libFuzzer, ASan
// and UBSan, briefly: built with clang in build-fuzz/ (scripts/fuzz.js) and run for a bounded
// number of executions from the seed corpus. Skipped with the reason when clang is missing.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const hasClang = spawnSync('sh', ['-c', 'command -v clang++']).status === 0;

test('fuzz: the -H rewriter (libFuzzer, ASan, UBSan)', { timeout: 300_000, skip: hasClang ? false : 'clang++ not installed (Debian: clang libclang-rt-14-dev)' }, () => {
  const runs = process.env.FUZZ_ITERATIONS ?? '20000';
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'fuzz.js'), '--native-runs', runs], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /executions, nothing found/);
});
