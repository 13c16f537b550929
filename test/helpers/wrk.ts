// wrk, the HTTP load generator of the load tests (Debian: wrk): whether it is installed, and
// one run of it whose process the test's Scope kills by pid if the test ends first.
import { spawn, spawnSync } from 'node:child_process';

import type { Scope } from './scope.js';

export function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Marks test t skipped when wrk is not installed; true then (the test returns). */
export function skipWithoutWrk(t: { skip(message?: string): void }): boolean {
  if (hasWrk()) return false;
  t.skip('wrk is not installed');
  return true;
}

export interface WrkRun {
  /** Resolves when wrk has exited: its exit status and everything it printed. */
  done: Promise<{ code: number | null; out: string }>;
}

/** Starts `wrk ARGS`; s kills it (SIGKILL, by pid) when it closes, if it still runs. */
export function startWrk(s: Scope, args: string[]): WrkRun {
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  s.process(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return { done: new Promise((resolve) => child.once('close', (code) => resolve({ code, out }))) };
}

/** wrk's requests per second, '?' when its report has none. */
export function wrkRate(out: string): string {
  return /Requests\/sec:\s*(\S+)/.exec(out)?.[1] ?? '?';
}
