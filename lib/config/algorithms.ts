// The selection algorithms, one row each, in Pen's precedence order for the initial choice
// (prio > weight > hash > roundrobin). Must list exactly the names of the C++ registry
// (native/balance/registry.cc); test/conformance/abi.test.ts checks it.
import type { Settings } from './settings.js';

export interface AlgorithmRow {
  name: string;
  /** The Pen command-line letter that selects it, or null (prio has none). */
  flag: string | null;
  /** The Settings flag that turns it on. */
  setting: 'prio' | 'weight' | 'hash' | 'roundrobin';
  /** Backend-spec fields this algorithm reads. */
  uses: ReadonlyArray<'weight' | 'prio'>;
}

export const ALGORITHMS: readonly AlgorithmRow[] = [
  { name: 'prio', flag: null, setting: 'prio', uses: ['prio'] },
  { name: 'weight', flag: '-W', setting: 'weight', uses: ['weight'] },
  { name: 'hash', flag: '-h', setting: 'hash', uses: [] },
  { name: 'roundrobin', flag: '-r', setting: 'roundrobin', uses: [] },
];

/** The algorithm that makes the initial choice for these settings (roundrobin when no flag). */
export function algorithmOf(s: Settings): string {
  return ALGORITHMS.find((a) => s[a.setting])?.name ?? 'roundrobin';
}
