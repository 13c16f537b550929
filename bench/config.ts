// The bench's knobs, read once from the environment. Everything a run did is in here and
// is copied into results/latest.json, so two result files can be compared knowingly.
//
//   BENCH_QUICK=1        short smoke run (< 1 min): 1 s wrk runs, 64 MiB bulk, 500 idle
//   BENCH_TARGETS=a,b    subset of: direct,pen,haproxy,nginx (default: all)
//   BENCH_WORKLOADS=a,b  subset of: keepalive,close,download,upload,idle,udp,tls-handshake,
//                        tls-keepalive (default: all; tls-*: bench/tls.ts)
//                        (udp: bench/udp.ts, with its own knobs BENCH_UDP_SOCKETS/_WINDOW)
//   BENCH_REPEAT=N       rounds per cell, median reported (default 3, quick 1)
//   BENCH_DURATION=S     seconds per wrk run       BENCH_CONNECTIONS=N  wrk -c
//   BENCH_BULK_MIB=N     bulk transfer size        BENCH_IDLE=N         idle connections
//   PEN_BIN=path         pen's entry (default <repo>/bin/pen.js)
//   PEN_ARGS="..."       extra pen argv, inserted before LISTEN (quotes allowed)
//   HAPROXY_SPLICE=1     add `option splice-auto` to haproxy (default: haproxy's default)
//   BENCH_KEEP_TMP=1     keep the temp dir (configs, logs) for inspection
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nofileHardLimit } from './procstat.js';

export const TARGETS = ['direct', 'pen', 'haproxy', 'nginx'] as const;
export type TargetName = (typeof TARGETS)[number];
export const WORKLOADS = ['keepalive', 'close', 'download', 'upload', 'idle', 'udp', 'tls-handshake', 'tls-keepalive'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface BenchConfig {
  quick: boolean;
  /** CPU for the balancer under test; null when the machine has one CPU (then nothing is pinned). */
  lbCpu: number | null;
  /** CPU for backends and load generators. */
  loadCpu: number | null;
  /** Rounds per (workload, target) cell; the report shows the per-metric median. */
  repeat: number;
  wrkThreads: number;
  wrkConnections: number;
  durationS: number;
  warmupS: number;
  bulkBytes: number;
  idleRequested: number;
  idleCount: number;
  /** Soft fd limit given to every started process (the hard limit caps it). */
  nofile: number;
  targets: TargetName[];
  workloads: WorkloadName[];
  penBin: string;
  penArgs: string[];
  haproxySplice: boolean;
  repoRoot: string;
  resultsPath: string;
  keepTmp: boolean;
  notes: string[];
}

/** Splits "a 'b c' \"d\"" like a shell would for simple cases (no escapes, no expansion). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

function list<T extends string>(env: string | undefined, all: readonly T[], what: string): T[] {
  if (!env) return [...all];
  const picked = env.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of picked) {
    if (!all.includes(p as T)) throw new Error(`${what}: unknown "${p}" (known: ${all.join(', ')})`);
  }
  return all.filter((a) => picked.includes(a));
}

function num(env: string | undefined, dflt: number): number {
  if (env === undefined || env === '') return dflt;
  const n = Number(env);
  if (!Number.isFinite(n) || n < 0) throw new Error(`bad number "${env}"`);
  return n;
}

/** The checkout root: the nearest folder above this file that holds package.json. */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the checkout (no package.json above)');
    dir = up;
  }
  return dir;
}

export function readConfig(env = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const notes: string[] = [];
  const repoRoot = findRepoRoot();

  const cpus = os.availableParallelism();
  const pinned = cpus >= 2;
  if (!pinned) notes.push(`only ${cpus} CPU: nothing is pinned, balancer and load share it`);

  const load = os.loadavg()[0]!;
  if (load > 0.5) {
    notes.push(`the machine was busy at start (load average ${load.toFixed(2)}): other processes compete for both CPUs, expect noise`);
  }

  const hard = nofileHardLimit();
  const nofile = Math.min(65536, hard);
  const idleRequested = Math.floor(num(env.BENCH_IDLE, quick ? 500 : 10_000));
  // The balancer holds two fds per proxied connection (client side + backend side) plus a
  // few of its own; the hard limit is the ceiling (raising it needs CAP_SYS_RESOURCE).
  const idleMax = Math.floor((nofile - 100) / 2);
  const idleCount = Math.min(idleRequested, idleMax);
  if (idleCount < idleRequested) {
    notes.push(
      `idle: ${idleCount} connections instead of ${idleRequested}: RLIMIT_NOFILE hard limit is ${hard} ` +
        `and the balancer needs 2 fds per connection (raise it with \`ulimit -Hn\` as root to run ${idleRequested})`,
    );
  }

  return {
    quick,
    lbCpu: pinned ? 0 : null,
    loadCpu: pinned ? 1 : null,
    repeat: Math.max(1, Math.floor(num(env.BENCH_REPEAT, quick ? 1 : 3))),
    wrkThreads: 1,
    wrkConnections: Math.floor(num(env.BENCH_CONNECTIONS, 50)),
    durationS: num(env.BENCH_DURATION, quick ? 1 : 5),
    warmupS: quick ? 0 : 1,
    bulkBytes: Math.floor(num(env.BENCH_BULK_MIB, quick ? 64 : 1024) * 1024 * 1024),
    idleRequested,
    idleCount,
    nofile,
    targets: list(env.BENCH_TARGETS, TARGETS, 'BENCH_TARGETS'),
    workloads: list(env.BENCH_WORKLOADS, WORKLOADS, 'BENCH_WORKLOADS'),
    penBin: env.PEN_BIN || path.join(repoRoot, 'bin', 'pen.js'),
    penArgs: splitArgs(env.PEN_ARGS ?? ''),
    haproxySplice: env.HAPROXY_SPLICE === '1',
    repoRoot,
    resultsPath: path.join(repoRoot, 'bench', 'results', 'latest.json'),
    keepTmp: env.BENCH_KEEP_TMP === '1',
    notes,
  };
}
