// wrk, the HTTP load generator of the load tests (Debian: wrk): whether it is installed, and
// one run of it whose process the test's Scope kills by pid if the test ends first.
import { spawn, spawnSync } from 'node:child_process';

import { wrkSocketErrors, wrkSummary } from '../../bench/wrk-report.js';
import type { Scope } from './scope.js';

export { wrkSocketErrors };

export function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Marks test t skipped when wrk is not installed; true then (the test returns). */
export function skipWithoutWrk(t: { skip(message?: string): void }): boolean {
  if (hasWrk()) return false;
  t.skip('wrk is not installed');
  return true;
}

export interface WrkResult {
  code: number | null;
  /** Everything wrk printed. */
  out: string;
  /** Monotonic milliseconds from the spawn to the exit of the wrk process. */
  elapsedMs: number;
}

export interface WrkRun {
  /** Resolves when wrk has exited. */
  done: Promise<WrkResult>;
}

/** Starts `wrk ARGS`; s kills it (SIGKILL, by pid) when it closes, if it still runs. */
export function startWrk(s: Scope, args: string[]): WrkRun {
  const started = performance.now();
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  s.process(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return {
    done: new Promise((resolve) => child.once('close', (code) => resolve({ code, out, elapsedMs: performance.now() - started }))),
  };
}

/**
 * How many milliseconds wrk's own runtime ("N requests in S s", measured on the wall clock)
 * exceeds the monotonic time its process lived: > 0 only when the wall clock stepped forward
 * during the run (a VM resumed, a time service stepping the clock).
 */
export function wrkClockStepMs(r: WrkResult): number {
  const sum = wrkSummary(r.out);
  return sum ? Math.max(0, sum.seconds * 1000 - r.elapsedMs) : 0;
}

/**
 * The timeouts wrk counted that a step of the wall clock does not explain. wrk times requests
 * with gettimeofday and looks for old ones every 2 s, so a forward step longer than --timeout
 * counts each request then in flight once: at most one per connection. A step of over 1 s
 * (wrkClockStepMs) forgives that many; a connection that really hangs is counted again at every
 * later look and still shows.
 */
export function wrkTimeouts(r: WrkResult, connections: number): number {
  const counted = wrkSocketErrors(r.out).timeout;
  return wrkClockStepMs(r) > 1000 ? Math.max(0, counted - connections) : counted;
}

/** wrk's requests per second, '?' when its report has none. */
export function wrkRate(out: string): string {
  return /Requests\/sec:\s*(\S+)/.exec(out)?.[1] ?? '?';
}
