#!/usr/bin/env node
// Fuzzing (issue 12): the native HTTP rewriter under libFuzzer + ASan + UBSan (native/fuzz/,
// built with clang through CMake -DPEN_FUZZ=ON in build-fuzz/, never in build/), and the
// control-plane parsers (test/fuzz/targets.ts, compiled to dist/ by `npm run build:ts`).
//
//   npm run fuzz                       every target for FUZZ_SECONDS (default 60) each
//   node scripts/fuzz.js --native-runs N   only the native target, N executions (npm test)
//
// New corpus units go to build-fuzz/corpus/, crashes to build-fuzz/artifacts/ (turn them
// into seeds under test/fuzz/corpus/ once fixed). Exit status: 0 when nothing was found.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const buildDir = path.join(root, 'build-fuzz');
const seeds = path.join(root, 'test', 'fuzz', 'corpus', 'xff');
const dict = path.join(root, 'test', 'fuzz', 'xff.dict');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? 'pipe' : 'inherit', encoding: 'utf8', cwd: root });
  if (r.error) throw r.error;
  return r;
}

/** Builds the libFuzzer target; returns its path, or null (with the reason printed) without clang. */
export function buildNative() {
  if (run('sh', ['-c', 'command -v clang++'], { capture: true }).status !== 0) {
    console.log('fuzz: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev): native target skipped');
    return null;
  }
  const generator = run('sh', ['-c', 'command -v ninja'], { capture: true }).status === 0 ? ['-G', 'Ninja'] : [];
  if (!fs.existsSync(path.join(buildDir, 'CMakeCache.txt'))) {
    const c = run('cmake', ['-S', root, '-B', buildDir, ...generator, '-DPEN_FUZZ=ON',
      '-DCMAKE_CXX_COMPILER=clang++', '-DCMAKE_BUILD_TYPE=Debug'], { capture: true });
    if (c.status !== 0) throw new Error(`fuzz: cmake configure failed:\n${c.stdout}${c.stderr}`);
  }
  const b = run('cmake', ['--build', buildDir, '--target', 'pen_fuzz_xff'], { capture: true });
  if (b.status !== 0) throw new Error(`fuzz: build failed:\n${b.stdout}${b.stderr}`);
  return path.join(buildDir, 'pen_fuzz_xff');
}

/** Runs the native target; returns libFuzzer's execution count. Throws when it found something. */
export function runNative(bin, { seconds, runs }) {
  const corpus = runs ? fs.mkdtempSync(path.join(os.tmpdir(), 'pen-fuzz-')) : path.join(buildDir, 'corpus', 'xff');
  const artifacts = path.join(buildDir, 'artifacts') + path.sep;
  fs.mkdirSync(corpus, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const args = [corpus, seeds, `-dict=${dict}`, `-artifact_prefix=${artifacts}`, '-print_final_stats=1',
    '-max_len=8192', '-timeout=10', '-rss_limit_mb=2048',
    ...(runs ? [`-runs=${runs}`, '-seed=12'] : [`-max_total_time=${seconds}`])];
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  if (runs) fs.rmSync(corpus, { recursive: true, force: true });
  const out = `${r.stdout}${r.stderr}`;
  const execs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(out)?.[1] ?? 0);
  if (r.status !== 0) throw new Error(`fuzz: the native target failed (status ${r.status}):\n${out.split('\n').slice(-60).join('\n')}`);
  return execs;
}

async function main() {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--native-runs');
  if (at >= 0) {
    const bin = buildNative();
    if (bin) console.log(`fuzz: xff (native): ${runNative(bin, { runs: Number(argv[at + 1]) })} executions, nothing found`);
    return;
  }
  const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
  const bin = buildNative();
  if (bin) console.log(`fuzz: xff (native, ${seconds} s): ${runNative(bin, { seconds })} executions, nothing found`);
  const targets = path.join(root, 'dist', 'test', 'fuzz', 'targets.js');
  if (!fs.existsSync(targets)) throw new Error('fuzz: dist/test/fuzz/targets.js missing (npm run build:ts)');
  const { runTargets } = await import(targets);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  for (const r of await runTargets({ seed, seconds })) {
    console.log(`fuzz: ${r.name} (seed ${seed}, ${seconds} s): ${r.executions} executions, nothing found`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
