// `npm run bench:paired`: pen and one peer measured at the same time, for the small-exchange
// workloads (keepalive, close). Both balancers run on the LB CPU, the HTTP backend and two wrk
// (one per balancer) on the load CPU, for the same seconds; each balancer's CPU per request
// is its utime+stime over its requests. What the machine does meanwhile (another guest, a
// frequency change) falls on both alike, so pen/peer holds still where the sequential rounds
// of `npm run bench` move by several per cent between runs. Every round starts both fresh and
// alternates which one is started (and loaded) first; the report gives each round's ratio and
// their median, per peer, and the best peer's per workload.
//   BENCH_REPEAT=N (rounds, default 5), BENCH_DURATION=S (default 5), BENCH_CONNECTIONS=N,
//   BENCH_TARGETS (peers among haproxy,nginx), PEN_ARGS: as npm run bench.
// Writes bench/results/paired.json. Exit status as run.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readConfig, placement } from './config.js';
import { startHttpBackend, httpAnswers } from './backends.js';
import { makeTargets, type Lb, type Target } from './peers.js';
import { installCleanupHandlers, stop, stopAll } from './processes.js';
import { cpuSeconds, stealMeter } from './procstat.js';
import { placementCpus } from './steal.js';
import { runWrk } from './workloads.js';
import { median } from './report.js';
import { sleep } from './ports.js';

function log(msg: string): void {
  process.stderr.write(`bench:paired: ${msg}\n`);
}

interface Round {
  penUs: number;
  peerUs: number;
  ratio: number;
  penRps: number;
  peerRps: number;
  /** Share of the two CPUs' time the hypervisor took during the round, in %; null: unknown. */
  stealPct: number | null;
}

async function main(): Promise<number> {
  const cfg = readConfig();
  const rounds = Number(process.env.BENCH_REPEAT ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-paired-'));
  installCleanupHandlers(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const where = placement(cfg, 'pinned');
  const targets = makeTargets(cfg);
  const pen = targets.find((t) => t.name === 'pen');
  if (!pen || pen.skipReason) throw new Error(`pen cannot run: ${pen?.skipReason ?? 'not selected'}`);
  const peers = targets.filter((t) => t.name === 'haproxy' || t.name === 'nginx');
  for (const p of peers) if (p.skipReason) log(`${p.name}: skipped: ${p.skipReason}`);
  const backend = await startHttpBackend(cfg, dir, where);
  const results: Record<string, Record<string, Round[]>> = {};
  let failures = 0;
  try {
    for (const workload of ['keepalive', 'close'] as const) {
      results[workload] = {};
      for (const peer of peers.filter((p) => !p.skipReason)) {
        const list: Round[] = [];
        for (let r = 0; r < rounds; r++) {
          const order: Target[] = r % 2 === 0 ? [pen, peer] : [peer, pen];
          const lbs: Lb[] = [];
          try {
            for (const t of order) lbs.push(await t.start(backend.port, dir, `${workload}-${peer.name}-${r}`, httpAnswers, where));
            const load = { threads: 1, connections: cfg.wrkConnections, cpu: cfg.loadCpu };
            await Promise.all(lbs.map((lb) => runWrk(cfg, load, lb.port, 1, workload === 'close')));
            const before = lbs.map((lb) => cpuSeconds(lb.child!.pid));
            const meter = stealMeter(placementCpus(where));
            const done = await Promise.all(lbs.map((lb) => runWrk(cfg, load, lb.port, cfg.durationS, workload === 'close')));
            const after = lbs.map((lb) => cpuSeconds(lb.child!.pid));
            const stolen = meter();
            if ([...before, ...after].some((v) => v === null)) throw new Error('a balancer exited during the load');
            const us = (i: number) => ((after[i]! - before[i]!) * 1e6) / done[i]!.requests;
            const iPen = order.indexOf(pen), iPeer = 1 - iPen;
            const round: Round = {
              penUs: us(iPen), peerUs: us(iPeer), ratio: us(iPen) / us(iPeer),
              penRps: done[iPen]!.rps, peerRps: done[iPeer]!.rps, stealPct: stolen === null ? null : stolen * 100,
            };
            list.push(round);
            log(`${workload} pen vs ${peer.name} (round ${r + 1}/${rounds}): ${round.penUs.toFixed(2)} vs ` +
              `${round.peerUs.toFixed(2)} µs CPU per request, pen/${peer.name} ${round.ratio.toFixed(3)}` +
              (round.stealPct === null ? '' : `, steal ${round.stealPct.toFixed(1)} %`));
          } catch (e) {
            failures++;
            log(`${workload} pen vs ${peer.name} (round ${r + 1}): FAILED: ${(e as Error).message}`);
          } finally {
            for (const lb of lbs) if (lb.child) await stop(lb.child);
          }
          await sleep(200);
        }
        results[workload]![peer.name] = list;
      }
    }
  } finally {
    await stop(backend.child);
    await stopAll();
  }
  const lines = [`pen and one peer at once (${rounds} rounds of ${cfg.durationS} s, wrk -c${cfg.wrkConnections} each; ` +
    `balancers on CPU ${cfg.lbCpu}, backend and wrk on CPU ${cfg.loadCpu}), LB CPU per request:`];
  const summary: Record<string, { perPeer: Record<string, number>; best: string; ratio: number }> = {};
  for (const [workload, byPeer] of Object.entries(results)) {
    const perPeer: Record<string, number> = {};
    for (const [peer, list] of Object.entries(byPeer)) {
      if (!list.length) continue;
      perPeer[peer] = median(list.map((x) => x.ratio));
      lines.push(`  ${workload.padEnd(9)} pen/${peer.padEnd(7)} ${perPeer[peer]!.toFixed(3)}  ` +
        `(rounds ${list.map((x) => x.ratio.toFixed(3)).join(' ')}; pen ${median(list.map((x) => x.penUs)).toFixed(2)} µs, ` +
        `${peer} ${median(list.map((x) => x.peerUs)).toFixed(2)} µs)`);
    }
    // The best peer is the one with the lower CPU per request: the higher pen/peer ratio.
    const best = Object.entries(perPeer).sort((a, b) => b[1] - a[1])[0];
    if (best) {
      summary[workload] = { perPeer, best: best[0], ratio: best[1] };
      lines.push(`  ${workload.padEnd(9)} pen/best peer (${best[0]}) ${best[1].toFixed(3)}`);
    }
  }
  const steal = Object.values(results).flatMap((byPeer) => Object.values(byPeer).flat())
    .map((x) => x.stealPct).filter((x): x is number => x !== null);
  if (steal.length) {
    lines.push(`  the hypervisor took ${median(steal).toFixed(1)} % of the two CPUs' time in the median round, ` +
      `${Math.max(...steal).toFixed(1)} % at most (both balancers of a round alike)`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  const out = path.join(path.dirname(cfg.resultsPath), 'paired.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rounds, durationS: cfg.durationS, results, summary }, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:paired: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
