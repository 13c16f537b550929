// `npm run bench:dsr` (root): Direct Server Return forwarding rate and CPU per frame, pen's
// DSR plane vs the kernel's IPVS in DR mode, on the same namespace topology, in one run.
//
// Topology (test/helpers/netns.ts): client, director and two backends on one bridge; the VIP
// on the backends' loopback (arp_ignore=1, arp_announce=2). The load is UDP datagrams to
// VIP:PORT from four client addresses (helpers/dsr-flood.c, sendmmsg), for BENCH_DSR_MS
// (default 5000; BENCH_QUICK=1: 1000). Frames forwarded = what the backends' eth0 received.
//   pen:  build/native-tests/pen_dsr_forward -U eth0 VIP PORT B1 B2 in the director namespace
//         (the DSR plane as a program; its chooser is Pen's DSR hash over the client address).
//   ipvs: VIP on the director's eth0, `ipvsadm -A -u VIP:PORT -s sh` + `-a ... -g` per backend.
// Reported per target: frames/s at the backends, the director process's CPU per frame (pen
// only: IPVS works in softirq context and has no process), and the whole machine's busy CPU
// per frame (/proc/stat, all CPUs; includes the load generator and anything else running, so
// only a comparison within one run means something). Writes bench/results/dsr.json.
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { dsrForwarderBin, Lan, netnsUnavailable, waitLine } from '../test/helpers/netns.js';
import { compileHelper } from './cc.js';
import { CLK_TCK } from './procstat.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const quick = process.env.BENCH_QUICK === '1';
const ms = Number(process.env.BENCH_DSR_MS ?? (quick ? 1000 : 5000));
const PORT = 9999;
const SIZE = 64;

function log(m: string): void {
  process.stderr.write(`bench:dsr: ${m}\n`);
}

interface Cell {
  target: string;
  skipped?: string;
  framesPerS?: number;
  directorCpuUsPerFrame?: number;
  machineCpuUsPerFrame?: number;
  framesPerCpuS?: number;
  sent?: number;
  forwarded?: number;
}

/** Busy and total jiffies over all CPUs (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

function procTicks(pid: number): number {
  const t = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = t.slice(t.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

async function rxPackets(lan: Lan, host: string): Promise<number> {
  return Number((await lan.exec(host, ['cat', '/sys/class/net/eth0/statistics/rx_packets'])).trim());
}

async function topology(): Promise<{ lan: Lan; vip: string; clients: string[] }> {
  const lan = await Lan.create(['client', 'director', 'b1', 'b2'],
    { client: '10.77.0.1', director: '10.77.0.10', b1: '10.77.0.11', b2: '10.77.0.12' });
  const vip = lan.addr(100);
  const clients = [1, 2, 3, 4].map((x) => lan.addr(x));
  for (const c of clients.slice(1)) await lan.exec('client', ['ip', 'addr', 'add', `${c}/24`, 'dev', 'eth0']);
  for (const b of ['b1', 'b2']) await lan.dsrBackend(b, vip);
  return { lan, vip, clients };
}

/** One measured run of the flood through whatever the director runs; pid: its process, if any. */
async function measure(lan: Lan, vip: string, clients: string[], flood: string, target: string, pid?: number): Promise<Cell> {
  // warm-up: ARP for the VIP and the backends' MACs
  await lan.exec('client', [flood, vip, String(PORT), String(SIZE), '300', ...clients], 5000);
  const rx0 = (await rxPackets(lan, 'b1')) + (await rxPackets(lan, 'b2'));
  const m0 = machineTicks();
  const p0 = pid ? procTicks(pid) : 0;
  const t0 = process.hrtime.bigint();
  const out = JSON.parse(await lan.exec('client', [flood, vip, String(PORT), String(SIZE), String(ms), ...clients], ms + 10000)) as { sent: number };
  await new Promise((r) => setTimeout(r, 100)); // frames still in flight
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const p1 = pid ? procTicks(pid) : 0;
  const m1 = machineTicks();
  const rx1 = (await rxPackets(lan, 'b1')) + (await rxPackets(lan, 'b2'));
  const frames = rx1 - rx0;
  const machineS = (m1.busy - m0.busy) / CLK_TCK;
  const cell: Cell = { target, sent: out.sent, forwarded: frames, framesPerS: frames / seconds };
  if (frames > 0) {
    cell.machineCpuUsPerFrame = (machineS * 1e6) / frames;
    if (pid) {
      const procS = (p1 - p0) / CLK_TCK;
      cell.directorCpuUsPerFrame = (procS * 1e6) / frames;
      cell.framesPerCpuS = procS > 0 ? frames / procS : undefined;
    }
  }
  return cell;
}

async function benchPen(flood: string): Promise<Cell> {
  const bin = dsrForwarderBin();
  if (!bin) return { target: 'pen', skipped: 'build/native-tests/pen_dsr_forward is not built (node scripts/run-tests.js netns builds it)' };
  const { lan, vip, clients } = await topology();
  let child: ChildProcess | undefined;
  try {
    child = lan.spawn('director', [bin, '-U', 'eth0', vip, String(PORT), lan.addr(11), lan.addr(12)]);
    await waitLine(child, /^ready /);
    return await measure(lan, vip, clients, flood, 'pen', child.pid);
  } finally {
    await lan.close();
  }
}

async function benchIpvs(flood: string): Promise<Cell> {
  try {
    execFileSync('sh', ['-c', 'command -v ipvsadm'], { stdio: 'ignore' });
  } catch {
    return { target: 'ipvs', skipped: 'ipvsadm is not installed (Debian: ipvsadm)' };
  }
  const { lan, vip, clients } = await topology();
  try {
    try {
      await lan.exec('director', ['ipvsadm', '-A', '-u', `${vip}:${PORT}`, '-s', 'sh']);
    } catch (e) {
      return { target: 'ipvs', skipped: `IPVS is not available in this kernel: ${String((e as { stderr?: string }).stderr ?? e).trim().split('\n')[0]}` };
    }
    for (const b of [11, 12]) await lan.exec('director', ['ipvsadm', '-a', '-u', `${vip}:${PORT}`, '-r', lan.addr(b), '-g']);
    await lan.exec('director', ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'eth0']);
    return await measure(lan, vip, clients, flood, 'ipvs');
  } finally {
    await lan.close();
  }
}

async function main(): Promise<number> {
  const why = netnsUnavailable();
  if (why) {
    log(`skipped: ${why}`);
    return 0;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pen-bench-dsr-'));
  try {
    const flood = compileHelper(repoRoot, dir, 'dsr-flood');
    log(`${ms} ms of ${SIZE}-byte UDP datagrams from 4 client addresses, per target`);
    const cells = [await benchPen(flood), await benchIpvs(flood)];
    const pen = cells[0]!;
    const ipvs = cells[1]!;
    const ratio = pen.machineCpuUsPerFrame && ipvs.machineCpuUsPerFrame
      ? ipvs.machineCpuUsPerFrame / pen.machineCpuUsPerFrame : undefined;
    const f = (v: number | undefined, d = 0) => (v === undefined ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: d }));
    console.log('target  frames/s   director CPU µs/frame  machine CPU µs/frame  sent -> forwarded');
    for (const c of cells) {
      if (c.skipped) console.log(`${c.target.padEnd(7)} skipped: ${c.skipped}`);
      else console.log(`${c.target.padEnd(7)} ${f(c.framesPerS).padStart(9)}  ${f(c.directorCpuUsPerFrame, 3).padStart(21)}  ${f(c.machineCpuUsPerFrame, 3).padStart(20)}  ${f(c.sent)} -> ${f(c.forwarded)}`);
    }
    console.log(`pen/ipvs frames per machine CPU-second: ${ratio === undefined ? '- (needs both)' : ratio.toFixed(2)}`);
    const results = path.join(repoRoot, 'bench', 'results');
    fs.mkdirSync(results, { recursive: true });
    fs.writeFileSync(path.join(results, 'dsr.json'), JSON.stringify({ date: new Date().toISOString(), ms, size: SIZE, cells, ratio }, null, 2));
    return cells.some((c) => !c.skipped && !c.forwarded) ? 1 : 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (e) => {
  log(String(e?.stack ?? e));
  process.exit(2);
});
