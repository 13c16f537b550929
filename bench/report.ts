// Results: the shape written to bench/results/latest.json, the ratios, and the text table.
// Pure functions of the results (no I/O except writeJson), so they can be unit-tested.
import fs from 'node:fs';
import path from 'node:path';
import type { TargetName, WorkloadName } from './config.js';
import type { Metrics } from './workloads.js';

export interface Cell {
  status: 'ok' | 'skipped' | 'failed';
  /** Why skipped or failed. */
  reason?: string;
  metrics: Metrics;
  /** Each round's metrics when BENCH_REPEAT > 1 (`metrics` is then their median). */
  runs?: Metrics[];
}

/** The median of a non-empty list (mean of the middle two for an even count). */
export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Per-metric median over rounds. */
export function medianMetrics(runs: Metrics[]): Metrics {
  const out: Metrics = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const v = runs.map((r) => r[k]).filter((x): x is number => x !== undefined);
    if (v.length) out[k] = median(v);
  }
  return out;
}

export interface WorkloadResult {
  name: WorkloadName;
  title: string;
  backend: string;
  cells: Partial<Record<TargetName, Cell>>;
  /**
   * "pen/haproxy" -> metric -> ratio; only for metrics with a direction and both cells ok.
   * "pen/best peer": pen over the better of the peers (haproxy, nginx) per metric, when two
   * or more peers have it; `bestPeer` names that peer per metric.
   */
  ratios: Record<string, Record<string, number>>;
  bestPeer?: Record<string, TargetName>;
}

export interface TargetInfo {
  name: TargetName;
  version: string;
  describe: string;
  skipReason: string | null;
}

export interface Results {
  meta: Record<string, unknown>;
  notes: string[];
  targets: TargetInfo[];
  workloads: WorkloadResult[];
}

interface MetricDef {
  key: string;
  label: string;
  better: 'higher' | 'lower' | null;
  /** pen/direct is meaningful: a client-side number the balancer can only lose on. */
  vsDirect: boolean;
  digits: number;
}

const M = (key: string, label: string, better: MetricDef['better'], vsDirect: boolean, digits: number): MetricDef => ({
  key,
  label,
  better,
  vsDirect,
  digits,
});

const KEEPALIVE: MetricDef[] = [
  M('rps', 'requests/s', 'higher', true, 0),
  M('cpuPerReqUs', 'LB CPU per request (µs)', 'lower', false, 2),
  M('lbCorePct', 'LB CPU use (% of a core)', null, false, 0),
  M('p99Ms', 'latency p99 (ms)', 'lower', true, 2),
  M('errors', 'errors', null, false, 0),
];
const CLOSE: MetricDef[] = [
  M('rps', 'connections/s (= requests/s)', 'higher', true, 0),
  M('cpuPerConnUs', 'LB CPU per new connection (µs)', 'lower', false, 2),
  M('lbCorePct', 'LB CPU use (% of a core)', null, false, 0),
  M('p99Ms', 'latency p99 (ms)', 'lower', true, 2),
  M('errors', 'errors', null, false, 0),
];

/** The rows shown per workload, in order. Metrics not listed here still go to the JSON. */
export const METRICS: Record<WorkloadName, MetricDef[]> = {
  keepalive: KEEPALIVE,
  close: CLOSE,
  'mc-keepalive': KEEPALIVE,
  'mc-close': CLOSE,
  download: [
    M('gibPerS', 'throughput (GiB/s)', 'higher', true, 2),
    M('cpuPerGiBs', 'LB CPU per GiB (s)', 'lower', false, 3),
    M('lbCorePct', 'LB CPU use (% of a core)', null, false, 0),
  ],
  upload: [
    M('gibPerS', 'throughput (GiB/s)', 'higher', true, 2),
    M('cpuPerGiBs', 'LB CPU per GiB (s)', 'lower', false, 3),
    M('lbCorePct', 'LB CPU use (% of a core)', null, false, 0),
  ],
  idle: [
    M('open', 'connections open', null, false, 0),
    M('bytesPerConn', 'LB RSS per idle connection (bytes)', 'lower', false, 0),
    M('rssBeforeMiB', 'LB RSS before (MiB)', null, false, 1),
    M('rssAfterMiB', 'LB RSS holding them (MiB)', 'lower', false, 1),
    M('cpuPerConnUs', 'LB CPU per connection set-up (µs)', 'lower', false, 2),
    M('setupS', 'time to open them all (s)', null, false, 2),
  ],
  'tls-handshake': [
    M('rps', 'TLS handshakes/s (= requests/s)', 'higher', false, 0),
    M('cpuPerHandshakeUs', 'LB CPU per handshake (µs)', 'lower', false, 2),
    M('lbCorePct', 'LB CPU use (% of a core)', null, false, 0),
    M('p99Ms', 'latency p99 (ms)', 'lower', false, 2),
    M('errors', 'errors', null, false, 0),
  ],
  'tls-keepalive': [
    M('rps', 'requests/s', 'higher', false, 0),
    M('cpuPerReqUs', 'LB CPU per request (µs)', 'lower', false, 2),
    M('lbCorePct', 'LB CPU use (% of a core)', null, false, 0),
    M('p99Ms', 'latency p99 (ms)', 'lower', false, 2),
    M('errors', 'errors', null, false, 0),
  ],
  udp: [
    M('rtps', 'round trips/s', 'higher', true, 0),
    M('cpuPerDatagramUs', 'LB CPU per datagram (µs)', 'lower', false, 3),
    M('lbCorePct', 'LB CPU use (% of a core)', null, false, 0),
    M('lost', 'datagrams lost', null, false, 0),
  ],
};

const usable = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v !== 0;

/**
 * Fills `w.ratios` (and `w.bestPeer`): pen/<each peer> for directed metrics, pen/best peer
 * where two or more peers have the metric, pen/direct where vsDirect.
 */
export function computeRatios(w: WorkloadResult): void {
  const pen = w.cells.pen;
  w.ratios = {};
  delete w.bestPeer;
  if (pen?.status !== 'ok') return;
  const ok = (Object.entries(w.cells) as [TargetName, Cell][]).filter(([t, c]) => t !== 'pen' && c.status === 'ok');
  const ratiosTo = (other: TargetName, cell: Cell): void => {
    const out: Record<string, number> = {};
    for (const def of METRICS[w.name]) {
      if (def.better === null || (other === 'direct' && !def.vsDirect)) continue;
      const a = pen.metrics[def.key];
      const b = cell.metrics[def.key];
      if (usable(a) && usable(b)) out[def.key] = a / b;
    }
    if (Object.keys(out).length) w.ratios[`pen/${other}`] = out;
  };
  // Peers first, then the best of them, direct last: pen/peer is the headline, pen/direct
  // the context.
  const peers = ok.filter(([t]) => t !== 'direct');
  for (const [other, cell] of peers) ratiosTo(other, cell);
  const best: Record<string, number> = {};
  const bestPeer: Record<string, TargetName> = {};
  for (const def of METRICS[w.name]) {
    const a = pen.metrics[def.key];
    const have = peers.filter(([, c]) => usable(c.metrics[def.key]));
    if (def.better === null || !usable(a) || have.length < 2) continue;
    const sign = def.better === 'higher' ? 1 : -1;
    const [name, cell] = have.reduce((x, y) => (sign * y[1].metrics[def.key]! > sign * x[1].metrics[def.key]! ? y : x));
    best[def.key] = a / cell.metrics[def.key]!;
    bestPeer[def.key] = name;
  }
  if (Object.keys(best).length) {
    w.ratios['pen/best peer'] = best;
    w.bestPeer = bestPeer;
  }
  for (const [other, cell] of ok.filter(([t]) => t === 'direct')) ratiosTo(other, cell);
}

function fmt(v: number | undefined, digits: number): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

/** The whole report as text: header, one table per workload, reasons, ratio legend. */
export function renderText(res: Results): string {
  const lines: string[] = [];
  const meta = res.meta;
  lines.push(`pen benchmark — ${meta.date}  (${meta.quick ? 'QUICK smoke run' : 'full run'})`);
  const params = (meta.params ?? {}) as { repeat?: number };
  const rounds = params.repeat && params.repeat > 1 ? `; each cell is the median of ${params.repeat} rounds` : '';
  lines.push(`host: ${meta.host}; ${meta.pinning}${rounds}`);
  for (const t of res.targets) {
    lines.push(`  ${t.name.padEnd(8)} ${t.skipReason ? `skipped: ${t.skipReason}` : `${t.version} — ${t.describe}`}`);
  }
  for (const [k, v] of Object.entries((meta.backends ?? {}) as Record<string, string>)) lines.push(`  backend ${k}: ${v}`);
  for (const n of res.notes) lines.push(`  note: ${n}`);

  const shown = res.targets.filter((t) => !t.skipReason).map((t) => t.name);
  for (const w of res.workloads) {
    lines.push('', `== ${w.title}`);
    const ratioCols = Object.keys(w.ratios);
    const rows: string[][] = [['metric', ...shown, ...ratioCols]];
    for (const def of METRICS[w.name]) {
      const row = [`${def.label}${def.better ? ` [${def.better} is better]` : ''}`];
      for (const t of shown) {
        const c = w.cells[t];
        row.push(!c ? '' : c.status === 'ok' ? fmt(c.metrics[def.key], def.digits) : c.status === 'skipped' ? 'skipped' : 'FAILED');
      }
      for (const r of ratioCols) {
        const peer = r === 'pen/best peer' ? w.bestPeer?.[def.key] : undefined;
        row.push(`${fmt(w.ratios[r]![def.key], 2)}${peer ? ` (${peer})` : ''}`);
      }
      rows.push(row);
    }
    lines.push(...pad(rows));
    for (const t of shown) {
      const c = w.cells[t];
      if (c && c.status !== 'ok') lines.push(`  ${t}: ${c.status}: ${c.reason}`);
    }
  }
  lines.push(
    '',
    'Ratios are pen divided by the other column: below 1.00 means pen is lower (better for',
    'CPU, RSS and latency), above 1.00 means pen is higher (better for requests/s and GiB/s).',
    'pen/best peer divides by the better peer for that row (named in parentheses).',
    'pen/direct shows the share of the physical limit pen reaches (client-side metrics only).',
    'Direct runs client and backend on one CPU; through a balancer, loopback delivery work',
    'moves to the LB CPU, so bulk throughput above direct (pen/direct > 1) is possible.',
    'LB CPU is utime+stime of the balancer process (all threads) in clock ticks: short runs',
    '(quick mode) quantise per-unit CPU to ticks / units.',
  );
  return lines.join('\n');
}

export function writeJson(file: string, res: Results): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(res, null, 2) + '\n');
}
