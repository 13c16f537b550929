// Reading a process's CPU time and memory, and the CPUs' stolen time, from /proc (Linux only).
// Contract: the per-process functions take a pid the caller started; a pid that has gone away
// reads as null (never throws), so a crashed load balancer shows up as a failed cell, not a crash.
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second (`getconf CLK_TCK`); utime/stime in /proc/PID/stat count these. */
export const CLK_TCK: number = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

interface StatLine {
  ppid: number;
  /** utime + stime in clock ticks; /proc/PID/stat sums all threads of the process. */
  ticks: number;
}

function readStat(pid: number): StatLine | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: the fields we want follow the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** Pids of all live descendants of `pid` (children, grandchildren, ...). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(name));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const todo = [...(children.get(pid) ?? [])];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * CPU seconds (user + system, all threads) used so far by `pid` and its live descendants.
 * Returns null when `pid` itself is gone. Descendants that exited between two samples
 * lose their time: the load balancers measured here run as one process, so this is only
 * a safety net for a wrapper that forks.
 */
export function cpuSeconds(pid: number): number | null {
  const self = readStat(pid);
  if (!self) return null;
  let ticks = self.ticks;
  for (const d of descendants(pid)) ticks += readStat(d)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** Resident set size in bytes (VmRSS of /proc/PID/status), or null when `pid` is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The hard RLIMIT_NOFILE a child may raise its soft limit to (`ulimit -Hn`). */
export function nofileHardLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? 1 << 20 : Number(out);
  } catch {
    return 1024;
  }
}

/** Steal ticks (the 8th value of a `cpuN` line of /proc/stat) summed over `cpus`; null when
 *  the kernel reports no steal column for one of them. */
function stealTicks(cpus: number[]): number | null {
  let lines: string[];
  try {
    lines = fs.readFileSync('/proc/stat', 'utf8').split('\n');
  } catch {
    return null;
  }
  let sum = 0;
  for (const cpu of cpus) {
    const f = lines.find((l) => l.startsWith(`cpu${cpu} `))?.split(/\s+/);
    if (!f || f.length < 9) return null;
    sum += Number(f[8]);
  }
  return sum;
}

/**
 * Starts measuring the share of `cpus`' time that the hypervisor gave to other guests (steal).
 * cpus null: every online CPU. Returns a function giving that share (0..1) from this call to
 * its own, or null where /proc/stat has no steal column (bare metal reads 0).
 */
export function stealMeter(cpus: number[] | null): () => number | null {
  const list = cpus ?? Array.from({ length: os.availableParallelism() }, (_, i) => i);
  const t0 = process.hrtime.bigint();
  const s0 = stealTicks(list);
  return () => {
    const s1 = stealTicks(list);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s0 === null || s1 === null || seconds <= 0) return null;
    return Math.min(1, (s1 - s0) / CLK_TCK / seconds / list.length);
  };
}
