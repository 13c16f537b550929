// The workloads. Each runs its load generator on the load CPU (or unpinned, in free mode:
// the mc-* workloads) against one target's port and returns plain metrics (numbers keyed by
// the names report.ts knows). The balancer's CPU is the utime+stime delta of its pid (all
// threads, and its worker processes) across the load; "direct" has no balancer, so its cells
// carry only the client-side numbers (the physical limit).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { placement, type BenchConfig, type Placement, type WorkloadName } from './config.js';
import { bulkAnswers, httpAnswers, idleAnswers } from './backends.js';
import { cpuSeconds, rssBytes } from './procstat.js';
import { sleep } from './ports.js';
import { start, stop, type Child } from './processes.js';
import { hasCommand } from './versions.js';
import { wrkSocketErrors, wrkSummary, wrkTimeMs } from './wrk-report.js';
import type { Lb } from './peers.js';

export type Metrics = Record<string, number>;

export interface Workload {
  name: WorkloadName;
  title: string;
  backend: 'http' | 'bulk' | 'idle';
  /** Where the balancer, backend and load run, and each balancer's worker count. */
  placement: Placement;
  /** Readiness probe through a target: true once a real request made the round trip. */
  answers: (port: number) => Promise<boolean>;
  /** null when the workload can run here, else why it is skipped. */
  skipReason: string | null;
  run(lb: Lb): Promise<Metrics>;
}

const HELPERS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers');
const GIB = 1024 ** 3;

/**
 * Runs `load()` and returns what it returned plus the balancer's CPU seconds and the wall
 * seconds across it. Throws when the balancer died during the load (its CPU would be lost).
 */
async function withCpu<T>(lb: Lb, load: () => Promise<T>): Promise<{ result: T; cpuS: number | null; wallS: number }> {
  const pid = lb.child?.pid;
  const before = pid === undefined ? null : cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  const result = await load();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (pid === undefined) return { result, cpuS: null, wallS };
  const after = cpuSeconds(pid);
  if (before === null || after === null || lb.child!.exited) {
    throw new Error(`balancer ${lb.child!.exitDescription || 'vanished'} during the load: ${lb.child!.tail()}`);
  }
  return { result, cpuS: after - before, wallS };
}

/** Wait for a load-generator process to exit successfully; its stdout is the result. */
async function finish(child: Child, timeoutMs: number): Promise<string> {
  if (!(await child.waitExit(timeoutMs))) {
    await stop(child);
    throw new Error(`${child.name}: still running after ${timeoutMs} ms`);
  }
  if (child.exitDescription !== 'exited with code 0') {
    throw new Error(`${child.name} ${child.exitDescription}: ${child.tail()}`);
  }
  return child.stdout;
}

// ---- wrk: HTTP requests ---------------------------------------------------------------

interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

/** Parses wrk 4's text report (with --latency). Throws when the summary line is missing. */
export function parseWrk(out: string): WrkResult {
  const sum = wrkSummary(out);
  if (!sum) throw new Error(`wrk: no summary in output: ${out.slice(-300)}`);
  const lat = (pct: string): number => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(out);
    return m ? wrkTimeMs(m[1]!, m[2]!) : NaN;
  };
  const sock = wrkSocketErrors(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = sock.connect + sock.read + sock.write + sock.timeout + (non2xx ? Number(non2xx[1]) : 0);
  return { requests: sum.requests, seconds: sum.seconds, rps: sum.requests / sum.seconds, errors, p50Ms: lat('50'), p99Ms: lat('99') };
}

/** wrk's threads and connections, and its CPU (null: not pinned). */
interface WrkLoad {
  threads: number;
  connections: number;
  cpu: number | null;
}

export async function runWrk(cfg: BenchConfig, load: WrkLoad, port: number, durationS: number, close: boolean): Promise<WrkResult> {
  const d = Math.max(1, Math.round(durationS));
  const child = start({
    name: 'wrk',
    cpu: load.cpu,
    nofile: cfg.nofile,
    cmd: 'wrk',
    args: [
      `-t${load.threads}`,
      `-c${load.connections}`,
      `-d${d}s`,
      '--latency',
      ...(close ? ['-H', 'Connection: close'] : []),
      `http://127.0.0.1:${port}/`,
    ],
  });
  return parseWrk(await finish(child, (d + 30) * 1000));
}

/**
 * keep-alive requests or one connection per request, pinned (one worker per balancer, the
 * cfg's wrk) or free (mc-*: N workers, wrk -tN with cfg.mcWrkConnections, nothing pinned).
 * In free mode pen's cells also carry acceptedWorker0..N-1: the clients each of its workers
 * accepted since start (probe, warm-up and measured run).
 */
function httpWorkload(cfg: BenchConfig, close: boolean, mode: Placement['mode']): Workload {
  const perKey = close ? 'cpuPerConnUs' : 'cpuPerReqUs';
  const where = placement(cfg, mode);
  const load: WrkLoad = mode === 'pinned'
    ? { threads: cfg.wrkThreads, connections: cfg.wrkConnections, cpu: where.loadCpu }
    : { threads: cfg.mcWrkThreads, connections: cfg.mcWrkConnections, cpu: where.loadCpu };
  const wrk = `wrk -t${load.threads} -c${load.connections} -d${cfg.durationS}s${close ? " -H 'Connection: close'" : ''}`;
  let title = close ? `one connection per request (${wrk})` : `keep-alive small HTTP requests (${wrk})`;
  if (mode === 'free') {
    const n = where.workers;
    const peers = cfg.mcReuseport
      ? `haproxy nbthread ${n} (a bind per thread), nginx worker_processes ${n} (reuseport)`
      : `haproxy nbthread ${n}, nginx worker_processes ${n}`;
    title = `multi-core, free mode (nothing pinned): ${title}; pen -O 'workers ${n}', ${peers}, ` +
      `nginx backend with ${n} workers`;
  }
  return {
    name: mode === 'free' ? (close ? 'mc-close' : 'mc-keepalive') : close ? 'close' : 'keepalive',
    title,
    backend: 'http',
    placement: where,
    answers: httpAnswers,
    skipReason: hasCommand('wrk') ? null : 'wrk not installed (Debian: wrk)',
    async run(lb) {
      if (cfg.warmupS > 0) await runWrk(cfg, load, lb.port, cfg.warmupS, close);
      const { result: w, cpuS, wallS } = await withCpu(lb, () => runWrk(cfg, load, lb.port, cfg.durationS, close));
      if (w.requests === 0) throw new Error(`wrk completed no request (${w.errors} errors)`);
      const m: Metrics = { rps: w.rps, requests: w.requests, errors: w.errors, p50Ms: w.p50Ms, p99Ms: w.p99Ms };
      if (cpuS !== null) {
        m[perKey] = (cpuS / w.requests) * 1e6;
        m.lbCpuS = cpuS;
        m.lbCorePct = (cpuS / wallS) * 100;
      }
      if (lb.acceptedByWorker) (await lb.acceptedByWorker()).forEach((n, i) => (m[`acceptedWorker${i}`] = n));
      return m;
    },
  };
}

// ---- bulk: one big transfer -----------------------------------------------------------

function bulkWorkload(cfg: BenchConfig, direction: 'get' | 'put'): Workload {
  const size = cfg.bulkBytes >= GIB ? `${cfg.bulkBytes / GIB} GiB` : `${cfg.bulkBytes / 2 ** 20} MiB`;
  return {
    name: direction === 'get' ? 'download' : 'upload',
    title: `bulk ${direction === 'get' ? 'download' : 'upload'}: ${size} over one connection`,
    backend: 'bulk',
    placement: placement(cfg, 'pinned'),
    answers: bulkAnswers,
    skipReason: null,
    async run(lb) {
      const { result, cpuS, wallS } = await withCpu(lb, async () => {
        const child = start({
          name: 'bulk client',
          cpu: cfg.loadCpu,
          nofile: cfg.nofile,
          cmd: process.execPath,
          args: [path.join(HELPERS, 'bulk-client.js'), String(lb.port), direction, String(cfg.bulkBytes)],
        });
        // At least 10 MB/s, or it is broken rather than slow.
        const limitMs = 30_000 + cfg.bulkBytes / 10_000;
        const out = await finish(child, limitMs);
        return JSON.parse(out.trim().split('\n').pop()!) as { bytes: number; ms: number };
      });
      const gib = result.bytes / GIB;
      const m: Metrics = { gibPerS: gib / (result.ms / 1000), seconds: result.ms / 1000 };
      if (cpuS !== null) {
        m.cpuPerGiBs = cpuS / gib;
        m.lbCpuS = cpuS;
        m.lbCorePct = (cpuS / wallS) * 100;
      }
      return m;
    },
  };
}

// ---- idle: many open, silent connections ----------------------------------------------

/**
 * Loopback source addresses for the idle client. None (connect() picks the port, and may
 * reuse TIME_WAIT ports on loopback) while `count` fits in half the ephemeral port range;
 * beyond that 127.0.0.2.., one per 10,000 connections (bind-before-connect: each address
 * has its own ports, but bind() never takes a TIME_WAIT port, so it is the fallback).
 */
function sources(count: number): string[] {
  let range = 28_000;
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    range = hi! - lo! + 1;
  } catch {
    /* keep the Linux default */
  }
  if (count <= range / 2) return [];
  const n = Math.min(250, Math.ceil(count / 10_000) + 1);
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

function idleWorkload(cfg: BenchConfig): Workload {
  return {
    name: 'idle',
    title: `${cfg.idleCount.toLocaleString('en-US')} idle connections held open`,
    backend: 'idle',
    placement: placement(cfg, 'pinned'),
    answers: idleAnswers,
    skipReason: cfg.idleCount > 0 ? null : 'no idle connections possible within the fd limit',
    async run(lb) {
      const pid = lb.child?.pid;
      await sleep(300);
      const rssBefore = pid === undefined ? null : rssBytes(pid);
      const client = start({
        name: 'idle client',
        cpu: cfg.loadCpu,
        nofile: cfg.nofile,
        cmd: process.execPath,
        args: [
          path.join(HELPERS, 'idle-client.js'),
          JSON.stringify({ port: lb.port, count: cfg.idleCount, sources: sources(cfg.idleCount), concurrency: 256, timeoutMs: 15_000 }),
        ],
        stdin: 'pipe',
      });
      try {
        const { result: ready, cpuS } = await withCpu(lb, () =>
          client.nextJson<{ open: number; failed: number; ms: number; error: string }>(120_000),
        );
        if (ready.open === 0) throw new Error(`no connection opened: ${ready.error}`);
        await sleep(cfg.quick ? 300 : 1000); // let the balancer finish any lazy per-connection work
        const rssAfter = pid === undefined ? null : rssBytes(pid);
        if (pid !== undefined && (rssAfter === null || lb.child!.exited)) {
          throw new Error(`balancer ${lb.child!.exitDescription || 'vanished'} holding connections: ${lb.child!.tail()}`);
        }
        client.send('close');
        const closed = await client.nextJson<{ lost: number }>(30_000);
        const m: Metrics = { open: ready.open, failed: ready.failed, lost: closed.lost, setupS: ready.ms / 1000 };
        if (pid !== undefined && rssBefore !== null && rssAfter !== null) {
          m.rssBeforeMiB = rssBefore / 2 ** 20;
          m.rssAfterMiB = rssAfter / 2 ** 20;
          m.bytesPerConn = (rssAfter - rssBefore) / ready.open;
          m.cpuPerConnUs = ((cpuS ?? 0) / ready.open) * 1e6;
        }
        return m;
      } finally {
        await stop(client);
      }
    },
  };
}

/** Run apart, by bench/udp.ts and bench/tls.ts, not through makeWorkloads(). */
type ApartWorkload = 'udp' | 'tls-handshake' | 'tls-keepalive';

/**
 * The workloads the config asks for that run through run.ts's cells, in the order they run,
 * of one placement mode: 'pinned' (run first) or 'free' (the mc-* ones, run last).
 */
export function makeWorkloads(cfg: BenchConfig, mode: Placement['mode'] = 'pinned'): Workload[] {
  const all: Record<Exclude<WorkloadName, ApartWorkload>, () => Workload> = {
    keepalive: () => httpWorkload(cfg, false, 'pinned'),
    close: () => httpWorkload(cfg, true, 'pinned'),
    download: () => bulkWorkload(cfg, 'get'),
    upload: () => bulkWorkload(cfg, 'put'),
    idle: () => idleWorkload(cfg),
    'mc-keepalive': () => httpWorkload(cfg, false, 'free'),
    'mc-close': () => httpWorkload(cfg, true, 'free'),
  };
  return cfg.workloads.filter((w) => w !== 'udp' && !w.startsWith('tls-'))
    .map((w) => all[w as Exclude<WorkloadName, ApartWorkload>]())
    .filter((w) => w.placement.mode === mode);
}
