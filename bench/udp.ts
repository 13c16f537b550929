// The UDP round-trip workload (`udp` in BENCH_WORKLOADS): pen -U against nginx's stream UDP
// proxy and the direct path, in front of one UDP echo backend. A load client keeps a bounded
// number of 64-byte datagrams outstanding over a few client ports (= flows) and counts the
// round trips; the balancer's CPU per datagram relayed (client->server and server->client
// both count) is its utime+stime delta divided by 2 x round trips. Datagrams still missing
// after a drain period are reported as lost. The echo backend and the client are one small C
// program (helpers/udp-load.c, compiled with `cc` into the run's temp dir): in Node they
// could not keep a balancer busy.
//
// It needs its own targets (UDP listeners) and backend, so it runs beside the TCP workloads of
// run.ts rather than through them: runUdpWorkload() appends its WorkloadResult to the results.
// haproxy has no UDP proxy and is reported as skipped.
//
//   BENCH_UDP_SOCKETS=N   client ports (flows)              [8]
//   BENCH_UDP_WINDOW=N    datagrams outstanding per port    [16]
import fs from 'node:fs';
import dgram from 'node:dgram';
import path from 'node:path';
import { compileHelper } from './cc.js';
import { placement, type BenchConfig, type TargetName } from './config.js';
import { sleep, waitUntil } from './ports.js';
import { start, stop, type Child } from './processes.js';
import { cpuSeconds } from './procstat.js';
import { computeRatios, type Results, type WorkloadResult } from './report.js';
import type { Metrics } from './workloads.js';
import { whyNotRunnable } from './versions.js';
import { nginxStreamHead, nginxStreamSkipReason, startOnFreePort } from './peers.js';
import { measureRounds, placementCpus } from './steal.js';

const SIZE = 64;

interface UdpLb {
  port: number;
  child: Child | null;
}

interface UdpTarget {
  name: TargetName;
  skipReason: string | null;
  /** Starts the balancer on `port` in front of the echo backend (null for direct). */
  spawn: ((port: number, backendPort: number) => Child) | null;
}

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: bad number "${v}"`);
  return n;
}

/** A UDP port free on 127.0.0.1 a moment ago. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Probe: a datagram sent to `port` comes back unchanged within 300 ms. */
export function udpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const probe = Buffer.from('pen bench probe');
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.close();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 300);
    s.on('error', () => done(false));
    s.on('message', (m) => done(m.equals(probe)));
    s.send(probe, port, '127.0.0.1');
  });
}

function nginxUdpConfig(cfg: BenchConfig, dir: string, port: number, backendPort: number): string {
  return `${nginxStreamHead(cfg, dir, 'udp', 'nginx stream UDP proxy, one process')}stream {
  server {
    listen 127.0.0.1:${port} udp;
    proxy_pass 127.0.0.1:${backendPort};
    proxy_timeout 60s;
  }
}
`;
}

function targets(cfg: BenchConfig, dir: string): UdpTarget[] {
  const all: Record<TargetName, () => UdpTarget> = {
    direct: () => ({ name: 'direct', skipReason: null, spawn: null }),
    pen: () => ({
      name: 'pen',
      skipReason: fs.existsSync(cfg.penBin) ? whyNotRunnable(process.execPath, [cfg.penBin, '--help']) : `${cfg.penBin} not found`,
      spawn: (port, backendPort) => start({
        name: 'pen', cpu: cfg.lbCpu, nofile: cfg.nofile, cmd: process.execPath, cwd: cfg.repoRoot,
        args: [cfg.penBin, '-f', '-U', '-x', '20000', '-c', '20000', ...cfg.penArgs, `127.0.0.1:${port}`, `127.0.0.1:${backendPort}`],
      }),
    }),
    haproxy: () => ({ name: 'haproxy', skipReason: 'haproxy has no UDP proxy', spawn: null }),
    nginx: () => {
      return {
        name: 'nginx',
        skipReason: nginxStreamSkipReason(),
        spawn: (port, backendPort) => {
          const conf = path.join(dir, 'nginx-lb-udp.conf');
          fs.writeFileSync(conf, nginxUdpConfig(cfg, dir, port, backendPort));
          return start({
            name: 'nginx', cpu: cfg.lbCpu, nofile: cfg.nofile, cmd: 'nginx',
            args: ['-p', dir, '-e', path.join(dir, 'nginx-lb-udp-error.log'), '-c', conf, '-g', 'daemon off;'],
          });
        },
      };
    },
  };
  return cfg.targets.map((t) => all[t]());
}

/** Starts `t` on a fresh UDP port (retried on a port race) until a probe makes the round trip. */
async function startTarget(t: UdpTarget, backendPort: number): Promise<UdpLb> {
  if (!t.spawn) {
    await waitUntil('udp backend', () => udpAnswers(backendPort), 5_000);
    return { port: backendPort, child: null };
  }
  const spawn = t.spawn;
  return startOnFreePort(`${t.name} (udp)`, (port) => spawn(port, backendPort), udpAnswers, freeUdpPort);
}

interface ClientResult {
  sent: number;
  received: number;
  lost: number;
  ms: number;
}

async function runClient(cfg: BenchConfig, load: string, port: number, seconds: number, sockets: number, window: number): Promise<ClientResult> {
  const ms = Math.max(200, Math.round(seconds * 1000));
  const drainMs = 2000;
  const child = start({
    name: 'udp client', cpu: cfg.loadCpu, nofile: cfg.nofile, cmd: load,
    args: ['client', String(port), String(sockets), String(window), String(SIZE), String(ms), String(drainMs)],
  });
  try {
    return await child.nextJson<ClientResult>(ms + drainMs + 30_000);
  } finally {
    await stop(child);
  }
}

async function measure(cfg: BenchConfig, load: string, lb: UdpLb, sockets: number, window: number): Promise<Metrics> {
  if (cfg.warmupS > 0) await runClient(cfg, load, lb.port, cfg.warmupS, sockets, window);
  const pid = lb.child?.pid;
  const before = pid === undefined ? null : cpuSeconds(pid);
  const r = await runClient(cfg, load, lb.port, cfg.durationS, sockets, window);
  const after = pid === undefined ? null : cpuSeconds(pid);
  if (pid !== undefined && (before === null || after === null || lb.child!.exited)) {
    throw new Error(`balancer ${lb.child!.exitDescription || 'vanished'} during the load: ${lb.child!.tail()}`);
  }
  if (r.received === 0) throw new Error('no datagram came back');
  const m: Metrics = { rtps: r.received / (r.ms / 1000), roundTrips: r.received, sent: r.sent, lost: r.lost };
  if (before !== null && after !== null) {
    const cpuS = after - before;
    m.cpuPerDatagramUs = (cpuS / (2 * r.received)) * 1e6;
    m.lbCpuS = cpuS;
    m.lbCorePct = (cpuS / (r.ms / 1000)) * 100;
  }
  return m;
}

/**
 * Runs the UDP workload when the config asks for it; appends its result to `results` and
 * returns the number of failed cells. Every process it starts is stopped before it returns.
 */
export async function runUdpWorkload(cfg: BenchConfig, dir: string, results: Results,
  log: (msg: string) => void): Promise<number> {
  if (!cfg.workloads.includes('udp')) return 0;
  const sockets = envInt('BENCH_UDP_SOCKETS', 8);
  const window = envInt('BENCH_UDP_WINDOW', 16);
  const wr: WorkloadResult = {
    name: 'udp',
    title: `UDP round trips: ${SIZE}-byte datagrams, ${sockets} client ports x ${window} outstanding, ${cfg.durationS}s`,
    backend: 'udp-load echo (C, recvmmsg/sendmmsg)', cells: {}, ratios: {},
  };
  results.workloads.push(wr);
  (results.meta.backends as Record<string, string>).udp = wr.backend;
  let failures = 0;
  let load: string;
  try {
    load = compileHelper(cfg.repoRoot, dir, 'udp-load');
  } catch (e) {
    const reason = (e as Error).message;
    for (const t of cfg.targets) wr.cells[t] = { status: 'skipped', reason, metrics: {} };
    log(`udp: skipped: ${reason}`);
    return 0;
  }
  const backend = start({ name: 'udp echo backend', cpu: cfg.loadCpu, nofile: cfg.nofile, cmd: load, args: ['echo'] });
  try {
    const { port: backendPort } = await backend.nextJson<{ port: number }>(10_000);
    const headline = (m: Metrics) => `${Math.round(m.rtps!).toLocaleString('en-US')} round trips/s` +
      `${m.cpuPerDatagramUs === undefined ? '' : `, LB ${m.cpuPerDatagramUs.toFixed(2)} µs CPU per datagram`}, ${m.lost} lost`;
    failures += await measureRounds(cfg, results, wr, targets(cfg, dir), placementCpus(placement(cfg, 'pinned')), log, headline,
      async (t) => {
        let lb: UdpLb | undefined;
        try {
          lb = await startTarget(t, backendPort);
          return await measure(cfg, load, lb, sockets, window);
        } finally {
          if (lb?.child) await stop(lb.child);
          await sleep(200);
        }
      });
  } catch (e) {
    failures++;
    for (const t of cfg.targets) wr.cells[t] ??= { status: 'failed', reason: `backend: ${(e as Error).message}`, metrics: {} };
  } finally {
    await stop(backend);
  }
  computeRatios(wr);
  return failures;
}
