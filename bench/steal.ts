// The rounds of a workload: interleaved over the targets, a median per cell, and rounds that
// the hypervisor disturbed (steal, /proc/stat) measured again: a round during which other
// guests took more than cfg.maxSteal of the used CPUs' time measured the host, not the
// balancer. Used by the sequential workloads (run.ts), the TLS ones (tls.ts), UDP (udp.ts) and
// the access-log comparison (access-log.ts); bench:paired only reports steal (both alike).
import type { BenchConfig, Placement, TargetName } from './config.js';
import { stealMeter } from './procstat.js';
import { medianMetrics, type Results, type WorkloadResult } from './report.js';
import type { Metrics } from './workloads.js';

/** Rounds of one workload measured again for steal, and those kept above the bound anyway. */
export interface StealCount {
  retried: number;
  kept: string[];
}

/** The CPUs a placement uses: the two pinned ones, or null (every CPU) when nothing is pinned. */
export function placementCpus(p: Placement): number[] | null {
  return p.lbCpu === null || p.loadCpu === null ? null : [...new Set([p.lbCpu, p.loadCpu])];
}

/**
 * Runs `once()` (one whole round: start, measure, stop) and returns its metrics with
 * `stealPct`. A round with more steal than cfg.maxSteal on `cpus` is run again, at most
 * cfg.stealRetries times (counted in `stolen`, logged with `tag`); the last is kept. Throws
 * what `once()` throws.
 */
export async function steadyRound(cfg: BenchConfig, cpus: number[] | null, name: string, tag: string,
  stolen: StealCount, log: (msg: string) => void, once: () => Promise<Metrics>): Promise<Metrics> {
  for (let attempt = 0; ; attempt++) {
    const meter = stealMeter(cpus);
    const metrics = await once();
    const share = meter();
    if (share === null) return metrics;
    metrics.stealPct = share * 100;
    if (share <= cfg.maxSteal) return metrics;
    if (attempt >= cfg.stealRetries) {
      stolen.kept.push(`${name} ${(share * 100).toFixed(0)} %`);
      return metrics;
    }
    stolen.retried++;
    log(`${tag}: ${(share * 100).toFixed(1)} % of the CPUs' time was stolen by the hypervisor: measured again`);
  }
}

/** The report's note for one workload's repeated rounds, or null when there were none. */
export function stealNote(cfg: BenchConfig, workload: string, s: StealCount): string | null {
  if (!s.retried && !s.kept.length) return null;
  const bound = `${(cfg.maxSteal * 100).toFixed(0)} %`;
  return `${workload}: ${s.retried} round(s) measured again because the hypervisor took more than ${bound} of the CPUs' time` +
    (s.kept.length ? `; kept above ${bound} after ${cfg.stealRetries} repeats: ${s.kept.join(', ')}` : '');
}

/** What measureRounds needs of a target. */
export interface RoundTarget {
  name: TargetName;
  /** null when the target can run here, else why it is skipped. */
  skipReason: string | null;
}

/**
 * Measures workload `wr` cfg.repeat times over `targets`, interleaved (each target once, then
 * again) so that a burst of outside noise spreads over all of them; each round is a
 * steadyRound of `once(t)` (start, measure, stop) on `cpus`. A target's first failure ends its
 * rounds. Fills wr.cells for every target (skipped, failed, or the median of its rounds with
 * each round in `runs`), pushes the steal note into results.notes, and returns the number of
 * failed cells. `headline(m)`: a round's progress line.
 */
export async function measureRounds<T extends RoundTarget>(cfg: BenchConfig, results: Results, wr: WorkloadResult,
  targets: T[], cpus: number[] | null, log: (msg: string) => void, headline: (m: Metrics) => string,
  once: (t: T) => Promise<Metrics>): Promise<number> {
  let failures = 0;
  const samples = new Map<TargetName, Metrics[]>();
  const stolen: StealCount = { retried: 0, kept: [] };
  for (let round = 0; round < cfg.repeat; round++) {
    for (const t of targets) {
      if (t.skipReason || wr.cells[t.name]?.status === 'failed') continue;
      const tag = `${wr.name} / ${t.name}${cfg.repeat > 1 ? ` (round ${round + 1}/${cfg.repeat})` : ''}`;
      log(`${tag} ...`);
      try {
        const m = await steadyRound(cfg, cpus, t.name, tag, stolen, log, () => once(t));
        samples.set(t.name, [...(samples.get(t.name) ?? []), m]);
        log(`${tag}: ${headline(m)}`);
      } catch (e) {
        failures++;
        const reason = (e as Error).message.replace(/\s+/g, ' ').slice(0, 600);
        wr.cells[t.name] = { status: 'failed', reason, metrics: {} };
        log(`${tag}: FAILED: ${reason}`);
      }
    }
  }
  const note = stealNote(cfg, wr.name, stolen);
  if (note) results.notes.push(note);
  for (const t of targets) {
    if (t.skipReason) wr.cells[t.name] = { status: 'skipped', reason: t.skipReason, metrics: {} };
    else if (wr.cells[t.name]?.status !== 'failed') {
      const runs = samples.get(t.name) ?? [];
      wr.cells[t.name] = { status: 'ok', metrics: medianMetrics(runs), ...(runs.length > 1 ? { runs } : {}) };
    }
  }
  return failures;
}
