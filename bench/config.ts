// The bench's knobs, read once from the environment. Everything a run did is in here and
// is copied into results/latest.json, so two result files can be compared knowingly.
//
//   BENCH_QUICK=1        short smoke run (< 1 min): 1 s wrk runs, 64 MiB bulk, 500 idle
//   BENCH_TARGETS=a,b    subset of: direct,pen,haproxy,nginx (default: all)
//   BENCH_WORKLOADS=a,b  subset of: keepalive,close,download,upload,idle,udp,tls-handshake,
//                        tls-keepalive,mc-keepalive,mc-close (default: all; tls-*: bench/tls.ts)
//                        (udp: bench/udp.ts, with its own knobs BENCH_UDP_SOCKETS/_WINDOW)
//                        (mc-*: multi-core, free mode: see Placement below)
//   BENCH_REPEAT=N       rounds per cell, median reported (default 3, quick 1)
//   BENCH_MAX_STEAL=P    a round during which the hypervisor took more than P % of the used
//                        CPUs' time (steal, /proc/stat) is measured again (default 5)
//   BENCH_STEAL_RETRIES=N  at most N such repeats per round (default 2); the last is kept
//   BENCH_DURATION=S     seconds per wrk run       BENCH_CONNECTIONS=N  wrk -c
//   BENCH_BULK_MIB=N     bulk transfer size        BENCH_IDLE=N         idle connections
//   BENCH_MC_WORKERS=N   mc-*: threads/processes per balancer and HTTP backend, and wrk -t (2)
//   BENCH_MC_CONNECTIONS=N  mc-*: wrk -c (default BENCH_CONNECTIONS x BENCH_MC_WORKERS)
//   BENCH_MC_REUSEPORT=1 mc-*: one SO_REUSEPORT listener per peer worker, as pen's (nginx
//                        `listen ... reuseport`, haproxy one `bind ... thread N` per thread)
//                        instead of each peer's default shared listener
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
export const WORKLOADS = ['keepalive', 'close', 'download', 'upload', 'idle', 'udp', 'tls-handshake', 'tls-keepalive',
  'mc-keepalive', 'mc-close'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/**
 * Where a workload's processes run and how many threads or processes each balancer gets.
 * pinned: the balancer on lbCpu, backend and load generator on loadCpu, one worker each
 * (pen's default, haproxy `nbthread 1`, nginx `worker_processes 1`). free (the mc-*
 * workloads): nothing pinned, balancer, backend and load generator share every CPU, and each
 * balancer runs `workers` threads (pen `workers N`, haproxy `nbthread N`) or worker processes
 * (nginx `worker_processes N`, master_process on); the nginx HTTP backend runs as many.
 */
export interface Placement {
  mode: 'pinned' | 'free';
  /** CPU for the balancer under test; null: not pinned. */
  lbCpu: number | null;
  /** CPU for the backend and the load generator; null: not pinned. */
  loadCpu: number | null;
  workers: number;
}

export function placement(cfg: BenchConfig, mode: Placement['mode']): Placement {
  return mode === 'pinned'
    ? { mode, lbCpu: cfg.lbCpu, loadCpu: cfg.loadCpu, workers: 1 }
    : { mode, lbCpu: null, loadCpu: null, workers: cfg.mcWorkers };
}

export interface BenchConfig {
  quick: boolean;
  /** CPU for the balancer under test; null when the machine has one CPU (then nothing is pinned). */
  lbCpu: number | null;
  /** CPU for backends and load generators. */
  loadCpu: number | null;
  /** Rounds per (workload, target) cell; the report shows the per-metric median. */
  repeat: number;
  /** A round with more steal than this share (0..1) of its CPUs' time is measured again. */
  maxSteal: number;
  stealRetries: number;
  wrkThreads: number;
  wrkConnections: number;
  /** mc-* workloads: workers per balancer (and HTTP backend), wrk -t and -c. */
  mcWorkers: number;
  mcWrkThreads: number;
  mcWrkConnections: number;
  mcReuseport: boolean;
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
  // reserve of its own (pen keeps 128 + 5 per worker for its control plane and pollers);
  // the hard limit is the ceiling (raising it needs CAP_SYS_RESOURCE). A count beyond what
  // every balancer can take would time the client's wait for the last ones, not the balancer.
  const idleMax = Math.floor((nofile - 256) / 2);
  const idleCount = Math.min(idleRequested, idleMax);
  const workloads = list(env.BENCH_WORKLOADS, WORKLOADS, 'BENCH_WORKLOADS');
  if (idleCount < idleRequested && workloads.includes('idle')) {
    notes.push(
      `idle: ${idleCount} connections instead of ${idleRequested}: RLIMIT_NOFILE hard limit is ${hard} ` +
        `and the balancer needs 2 fds per connection (raise it with \`ulimit -Hn\` as root to run ${idleRequested})`,
    );
  }

  const wrkConnections = Math.floor(num(env.BENCH_CONNECTIONS, 50));
  const mcWorkers = Math.floor(num(env.BENCH_MC_WORKERS, 2));
  if (mcWorkers < 1) throw new Error('BENCH_MC_WORKERS: at least 1');
  const mcWrkConnections = Math.floor(num(env.BENCH_MC_CONNECTIONS, wrkConnections * mcWorkers));
  if (mcWrkConnections < mcWorkers) throw new Error(`BENCH_MC_CONNECTIONS: at least one per wrk thread (${mcWorkers})`);
  return {
    quick,
    lbCpu: pinned ? 0 : null,
    loadCpu: pinned ? 1 : null,
    repeat: Math.max(1, Math.floor(num(env.BENCH_REPEAT, quick ? 1 : 3))),
    maxSteal: num(env.BENCH_MAX_STEAL, 5) / 100,
    stealRetries: Math.max(0, Math.floor(num(env.BENCH_STEAL_RETRIES, 2))),
    wrkThreads: 1,
    wrkConnections,
    mcWorkers,
    // One wrk thread per balancer worker (one thread cannot load more than one CPU), and as
    // many connections per worker as the pinned runs give their single worker.
    mcWrkThreads: mcWorkers,
    mcWrkConnections,
    mcReuseport: env.BENCH_MC_REUSEPORT === '1',
    durationS: num(env.BENCH_DURATION, quick ? 1 : 5),
    warmupS: quick ? 0 : 1,
    bulkBytes: Math.floor(num(env.BENCH_BULK_MIB, quick ? 64 : 1024) * 1024 * 1024),
    idleRequested,
    idleCount,
    nofile,
    targets: list(env.BENCH_TARGETS, TARGETS, 'BENCH_TARGETS'),
    workloads,
    penBin: env.PEN_BIN || path.join(repoRoot, 'bin', 'pen.js'),
    penArgs: splitArgs(env.PEN_ARGS ?? ''),
    haproxySplice: env.HAPROXY_SPLICE === '1',
    repoRoot,
    resultsPath: path.join(repoRoot, 'bench', 'results', 'latest.json'),
    keepTmp: env.BENCH_KEEP_TMP === '1',
    notes,
  };
}
