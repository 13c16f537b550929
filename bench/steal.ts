// Rounds that the hypervisor disturbed (steal, /proc/stat) are measured again: a round during
// which other guests took more than cfg.maxSteal of the used CPUs' time measured the host, not
// the balancer. Used by the sequential workloads (run.ts), the TLS ones (tls.ts) and the
// access-log comparison (access-log.ts); bench:paired only reports steal (both alike).
import type { BenchConfig, Placement } from './config.js';
import { stealMeter } from './procstat.js';
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
