// `workers N|auto` (spec/beyond-pen.md "Multi-core data plane"): how many data-plane threads.
import os from 'node:os';

import type { Settings } from './settings.js';

/** The most workers pen runs (native/dataplane.h kMaxWorkers; the conformance test checks). */
export const MAX_WORKERS = 256;

/** The number of workers the settings ask for: `auto` is one per online CPU. */
export function workersOf(s: Pick<Settings, 'workers'>): number {
  const n = s.workers === 'auto' ? os.availableParallelism() : s.workers;
  return Math.min(Math.max(n, 1), MAX_WORKERS);
}
