// The request log's cost (issue 6): connections per second through pen with the access log
// off, on to a file (-l FILE), and on to penlogd over UDP (-l 127.0.0.1:PORT, a sink that
// counts datagrams: `udp-load sink`), in the same run, rounds interleaved, median per variant.
// The load is the `close` workload (wrk, one connection per request), so every connection
// makes one record.
// Runs with the close workload (BENCH_WORKLOADS) and the pen target (BENCH_TARGETS).
//
// The result goes into results.meta.accessLog and, as one line, into the notes printed in
// the report's header (the ratio "with / without", target >= 0.90). After each logging round
// the lines (datagrams) that arrived are compared with wrk's requests, so a log that silently
// lost records would show here. A round the hypervisor disturbed is measured again (steal.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { BenchConfig } from './config.js';
import { startHttpBackend } from './backends.js';
import { compileHelper } from './cc.js';
import { makeTargets, type Lb } from './peers.js';
import { sleep } from './ports.js';
import { start, stop } from './processes.js';
import { medianMetrics, type Results } from './report.js';
import { makeWorkloads, type Metrics } from './workloads.js';
import { placementCpus, stealNote, steadyRound, type StealCount } from './steal.js';

type Variant = 'off' | 'file' | 'udp';
const VARIANTS: Variant[] = ['off', 'file', 'udp'];
/** Below this ratio the note says the target is missed. */
const TARGET = 0.9;

function countLines(file: string): number {
  try {
    const b = fs.readFileSync(file);
    let n = 0;
    for (const c of b) if (c === 10) n++;
    return n;
  } catch {
    return 0;
  }
}

/**
 * Runs the access-log comparison when the config asks for the close workload and pen; adds
 * its outcome to `results`; returns the number of failures.
 */
export async function runAccessLogWorkload(cfg: BenchConfig, dir: string, results: Results,
  log: (msg: string) => void): Promise<number> {
  if (!cfg.workloads.includes('close') || !cfg.targets.includes('pen')) return 0;
  const work = makeWorkloads({ ...cfg, workloads: ['close'] })[0]!;
  if (work.skipReason) {
    results.notes.push(`access log: skipped: ${work.skipReason}`);
    return 0;
  }
  let failures = 0;
  let sinkBin: string;
  try {
    sinkBin = compileHelper(cfg.repoRoot, dir, 'udp-load');
  } catch (e) {
    results.notes.push(`access log: skipped: ${(e as Error).message}`); // as udp does
    return 0;
  }
  const backend = await startHttpBackend(cfg, dir);
  // The sink counts with recvmmsg into a 32 MiB buffer (helpers/udp-load.c), so that what it
  // counts is what pen sent, not what a slow receiver on the loaded CPU kept.
  const sink = start({ name: 'udp log sink', cpu: cfg.loadCpu, nofile: cfg.nofile, cmd: sinkBin, args: ['sink'],
    stdin: 'pipe' });
  const samples = new Map<Variant, Metrics[]>();
  const stolen: StealCount = { retried: 0, kept: [] };
  try {
    const { port: sinkPort } = await sink.nextJson<{ port: number }>(10_000);
    let sinkSeen = 0;
    for (let round = 0; round < cfg.repeat; round++) {
      for (const v of VARIANTS) {
        const file = path.join(dir, `access-${round}.log`);
        const extra = v === 'file' ? ['-l', file] : v === 'udp' ? ['-l', `127.0.0.1:${sinkPort}`] : [];
        const pen = makeTargets({ ...cfg, targets: ['pen'], penArgs: [...cfg.penArgs, ...extra] })[0]!;
        const tag = `access log ${v}${cfg.repeat > 1 ? ` (round ${round + 1}/${cfg.repeat})` : ''}`;
        log(`${tag} ...`);
        try {
          const m = await steadyRound(cfg, placementCpus(work.placement), v, tag, stolen, log, async () => {
            let lb: Lb | undefined;
            try {
              lb = await pen.start(backend.port, dir, `accesslog-${v}`, work.answers, work.placement);
              const got = await work.run(lb);
              await sleep(300); // the last batch of records
              if (v === 'file') got.logged = countLines(file);
              if (v === 'udp') {
                sink.send('count');
                const { count } = await sink.nextJson<{ count: number }>(5_000);
                got.logged = count - sinkSeen;
                sinkSeen = count;
              }
              return got;
            } finally {
              if (lb?.child) await stop(lb.child);
              fs.rmSync(file, { force: true });
              await sleep(200);
            }
          });
          samples.set(v, [...(samples.get(v) ?? []), m]);
          log(`${tag}: ${Math.round(m.rps ?? 0).toLocaleString('en-US')} conn/s` +
            `${m.logged !== undefined ? `, ${m.logged.toLocaleString('en-US')} lines for ${(m.requests ?? 0).toLocaleString('en-US')} measured requests (+ warm-up and probe)` : ''}`);
        } catch (e) {
          failures++;
          log(`${tag}: FAILED: ${(e as Error).message.replace(/\s+/g, ' ').slice(0, 400)}`);
        }
      }
    }
  } finally {
    await stop(sink);
    await stop(backend.child);
  }
  const note = stealNote(cfg, 'access log', stolen);
  if (note) results.notes.push(note);
  const med = Object.fromEntries([...samples].map(([v, runs]) => [v, medianMetrics(runs)])) as Partial<Record<Variant, Metrics>>;
  const ratio = (v: Variant): number | null => {
    const a = med[v]?.rps;
    const b = med.off?.rps;
    return a !== undefined && b ? a / b : null;
  };
  const summary = { target: TARGET, off: med.off ?? null, file: med.file ?? null, udp: med.udp ?? null,
    ratioFile: ratio('file'), ratioUdp: ratio('udp'), backend: backend.description };
  (results.meta as Record<string, unknown>).accessLog = summary;
  const r = (v: Variant) => {
    const x = ratio(v);
    return x === null ? 'n/a' : `${x.toFixed(2)}x`;
  };
  const n = (m?: Metrics) => (m?.rps === undefined ? 'n/a' : Math.round(m.rps).toLocaleString('en-US'));
  const cpu = (m?: Metrics) => (m?.cpuPerConnUs === undefined ? 'n/a' : m.cpuPerConnUs.toFixed(1));
  const worst = Math.min(...(['file', 'udp'] as Variant[]).map((v) => ratio(v) ?? 0));
  results.notes.push(`access log cost (close workload): ${n(med.off)} conn/s without -l, ${n(med.file)} with -l FILE ` +
    `(${r('file')}), ${n(med.udp)} with -l HOST:PORT (${r('udp')}); target >= ${TARGET.toFixed(2)}x: ` +
    `${worst >= TARGET ? 'met' : 'MISSED'}; LB CPU per connection ${cpu(med.off)} / ${cpu(med.file)} / ${cpu(med.udp)} µs ` +
    '(the steadier figure on a busy machine)');
  return failures;
}
