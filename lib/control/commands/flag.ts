// On/off settings spelled `WORD` / `no WORD` (hash, keepalive, ...): two entries per flag.
import type { Settings } from '../../config/settings.js';
import { command, type Command } from '../command.js';
import { none } from '../args.js';

/** The Settings keys that hold a boolean. */
export type FlagKey = { [K in keyof Settings]: Settings[K] extends boolean ? K : never }[keyof Settings];

/**
 * `word` sets settings[key] = true, `no word` sets it false; both reply nothing. The positive
 * entry renders the current state as `word` or `no word`.
 */
export function flag(word: string, key: FlagKey, what: string): Command[] {
  return [
    command({
      name: [word], help: `${word}: ${what}`, args: none,
      run: async (ctx) => { await ctx.update((d) => { d[key] = true; }); },
      render: (s) => [s[key] ? word : `no ${word}`],
    }),
    command({
      name: [`no ${word}`], help: `no ${word}: turn ${word} off`, args: none,
      run: async (ctx) => { await ctx.update((d) => { d[key] = false; }); },
    }),
  ];
}
