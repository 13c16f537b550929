// `npm run bench`: every workload against every target, side by side, in one run: the
// pinned workloads first, then udp, tls-* and the access-log comparison, then the free-mode
// multi-core ones (mc-*). Prints the table on stdout (progress on stderr), writes
// bench/results/latest.json, and exits 1 when a cell failed (a skipped target or workload is
// not a failure).
// Every process it starts is stopped by pid before it exits, also on error and Ctrl-C.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readConfig, type BenchConfig, type TargetName } from './config.js';
import { startBulkBackend, startHttpBackend, startIdleBackend, type Backend } from './backends.js';
import { makeTargets, type Lb, type Target } from './peers.js';
import { makeWorkloads, type Metrics, type Workload } from './workloads.js';
import { installCleanupHandlers, stop, stopAll } from './processes.js';
import { computeRatios, medianMetrics, renderText, writeJson, type Results, type WorkloadResult } from './report.js';
import { anyOutput } from './versions.js';
import { compileHelper } from './cc.js';
import { sleep } from './ports.js';
import { CLK_TCK } from './procstat.js';
import { measureRounds, placementCpus } from './steal.js';
import { runUdpWorkload } from './udp.js';
import { runTlsWorkloads } from './tls.js';
import { runAccessLogWorkload } from './access-log.js';

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

/** One line of progress per cell: the headline number of each workload. */
function headline(m: Metrics): string {
  const f = (v: number | undefined, d = 0) => (v === undefined ? '' : v.toLocaleString('en-US', { maximumFractionDigits: d }));
  if (m.rps !== undefined) return `${f(m.rps)} req/s${m.lbCpuS !== undefined ? `, LB ${f(m.cpuPerReqUs ?? m.cpuPerConnUs, 2)} µs CPU each` : ''}`;
  if (m.gibPerS !== undefined) return `${f(m.gibPerS, 2)} GiB/s${m.cpuPerGiBs !== undefined ? `, LB ${f(m.cpuPerGiBs, 3)} s CPU/GiB` : ''}`;
  if (m.open !== undefined) return `${f(m.open)} open${m.bytesPerConn !== undefined ? `, ${f(m.bytesPerConn)} B RSS each` : ''}`;
  return '';
}

function startBackend(w: Workload, cfg: BenchConfig, dir: string): Promise<Backend> {
  if (w.backend === 'http') return startHttpBackend(cfg, dir, w.placement);
  if (w.backend === 'bulk') return startBulkBackend(cfg, dir);
  return startIdleBackend(cfg);
}

/** Workloads with the same key share one backend: its kind, and where it runs. */
const backendKey = (w: Workload): string => (w.placement.mode === 'pinned' ? w.backend : `${w.backend} (${w.placement.mode})`);

/**
 * Runs `workloads` against `targets` (rounds interleaved, median per cell), appends their
 * results to `results`, and returns the number of failed cells. Starts each backend once
 * and stops it after the last workload that uses it.
 */
async function runCells(cfg: BenchConfig, dir: string, targets: Target[], workloads: Workload[],
  results: Results): Promise<number> {
  const backends = new Map<string, Backend>();
  let failures = 0;
  try {
    for (const [i, w] of workloads.entries()) {
      const wr: WorkloadResult = { name: w.name, title: w.title, backend: '', cells: {}, ratios: {} };
      results.workloads.push(wr);
      let backend: Backend | undefined;
      let backendError = w.skipReason;
      if (!backendError) {
        try {
          backend = backends.get(backendKey(w)) ?? (await startBackend(w, cfg, dir));
          backends.set(backendKey(w), backend);
          wr.backend = backend.description;
          (results.meta.backends as Record<string, string>)[backendKey(w)] = backend.description;
        } catch (e) {
          backendError = `backend failed to start: ${(e as Error).message}`;
          failures++;
        }
      }
      if (backend) {
        failures += await measureRounds(cfg, results, wr, targets, placementCpus(w.placement), log, headline,
          (t) => measureRound(w, t, backend.port, dir));
      } else {
        for (const t of targets) {
          wr.cells[t.name] = t.skipReason
            ? { status: 'skipped', reason: t.skipReason, metrics: {} }
            : { status: w.skipReason ? 'skipped' : 'failed', reason: backendError ?? '', metrics: {} };
        }
      }
      computeRatios(wr);
      const spread = spreadNote(wr);
      if (spread) results.notes.push(spread);
      // Stop a backend as soon as no later workload uses it.
      if (backend && !workloads.slice(i + 1).some((n) => backendKey(n) === backendKey(w))) {
        await stop(backend.child);
        backends.delete(backendKey(w));
      }
    }
  } finally {
    for (const b of backends.values()) await stop(b.child);
  }
  return failures;
}

/** One round of workload `w` through target `t`: started fresh, measured, stopped. */
async function measureRound(w: Workload, t: Target, port: number, dir: string): Promise<Metrics> {
  let lb: Lb | undefined;
  try {
    lb = await t.start(port, dir, w.name, w.answers, w.placement);
    return await w.run(lb);
  } finally {
    if (lb?.child) await stop(lb.child);
    await sleep(200); // let the kernel retire the last connections before the next run
  }
}

/**
 * "mc-close: pen's 2 workers accepted 50,123 / 49,877 clients (50.1 % / 49.9 %) ..." from
 * pen's acceptedWorkerN metrics (free mode), or null when the cell has none.
 */
function spreadNote(wr: WorkloadResult): string | null {
  const m = wr.cells.pen?.metrics ?? {};
  const counts: number[] = [];
  for (let i = 0; m[`acceptedWorker${i}`] !== undefined; i++) counts.push(m[`acceptedWorker${i}`]!);
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.length < 2 || total === 0) return null;
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const pct = counts.map((c) => `${((100 * c) / total).toFixed(1)} %`).join(' / ');
  return `${wr.name}: pen's ${counts.length} workers accepted ${counts.map(n).join(' / ')} clients (${pct}; ` +
    'since start: probe, warm-up and measured run; SO_REUSEPORT, the kernel spreads them by address and port)';
}

/**
 * Nanoseconds per null system call on the balancer's CPU (helpers/syscall-cost.c), or null with
 * the reason logged: what a system call costs decides what batching them is worth, so the
 * report names it beside the host.
 */
function syscallNs(cfg: BenchConfig, dir: string): number | null {
  try {
    const bin = compileHelper(cfg.repoRoot, dir, 'syscall-cost');
    const argv = cfg.lbCpu === null ? [bin] : ['taskset', '-c', String(cfg.lbCpu), bin];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(r.error?.message ?? r.stderr.trim());
    return (JSON.parse(r.stdout) as { ns: number }).ns;
  } catch (e) {
    log(`null system call cost not measured: ${(e as Error).message}`);
    return null;
  }
}

async function main(): Promise<number> {
  const cfg = readConfig();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-bench-'));
  const removeDir = async () => {
    if (!cfg.keepTmp) fs.rmSync(dir, { recursive: true, force: true });
  };
  installCleanupHandlers(removeDir);

  const targets = makeTargets(cfg);
  const pinned = makeWorkloads(cfg, 'pinned');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const nullSyscallNs = syscallNs(cfg, dir);
  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      quick: cfg.quick,
      host: `${os.availableParallelism()} CPUs (${cpu}), Linux ${os.release()}, node ${process.version}` +
        (nullSyscallNs === null ? '' : `; a null system call costs ${(nullSyscallNs / 1000).toFixed(2)} µs`),
      nullSyscallNs,
      pinning:
        cfg.lbCpu === null
          ? 'not pinned (one CPU)'
          : `balancer on CPU ${cfg.lbCpu}, backends and load generators on CPU ${cfg.loadCpu}` +
            (cfg.workloads.some((w) => w.startsWith('mc-')) ? ' (mc-*: nothing pinned)' : ''),
      params: {
        repeat: cfg.repeat,
        maxStealPct: cfg.maxSteal * 100,
        stealRetries: cfg.stealRetries,
        cpuTimeResolutionS: 1 / CLK_TCK,
        wrk: `-t${cfg.wrkThreads} -c${cfg.wrkConnections} -d${cfg.durationS}s (warm-up ${cfg.warmupS}s)`,
        multiCore: `mc-*: nothing pinned, ${cfg.mcWorkers} workers per balancer and backend, wrk -t${cfg.mcWrkThreads} -c${cfg.mcWrkConnections}`,
        bulkBytes: cfg.bulkBytes,
        idleRequested: cfg.idleRequested,
        idleCount: cfg.idleCount,
        nofile: cfg.nofile,
        penArgs: cfg.penArgs,
        haproxySplice: cfg.haproxySplice,
      },
      tools: { wrk: anyOutput('wrk', ['-v']) ?? 'not installed' },
      backends: {} as Record<string, string>,
      tempDir: cfg.keepTmp ? dir : undefined,
    },
    notes: cfg.notes,
    targets: targets.map((t) => ({ name: t.name, version: t.version, describe: t.describe, skipReason: t.skipReason })),
    workloads: [],
  };
  for (const t of targets) if (t.skipReason) log(`${t.name}: skipped: ${t.skipReason}`);

  let failures = 0;
  try {
    failures += await runCells(cfg, dir, targets, pinned, results);
    failures += await runUdpWorkload(cfg, dir, results, log);
    failures += await runTlsWorkloads(cfg, dir, results, log);
    failures += await runAccessLogWorkload(cfg, dir, results, log);
    failures += await runCells(cfg, dir, targets, makeWorkloads(cfg, 'free'), results);
  } finally {
    await stopAll();
    await removeDir();
  }

  process.stdout.write(renderText(results) + '\n');
  writeJson(cfg.resultsPath, results);
  log(`results written to ${path.relative(process.cwd(), cfg.resultsPath) || cfg.resultsPath}`);
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
