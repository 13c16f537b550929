// Numeric settings spelled `WORD [N]`: show the value, or set it and (mostly) show it.
import { z } from '../../config/zod.js';
import { DEFAULTS, type Settings } from '../../config/settings.js';
import { command, type Command } from '../command.js';
import { int } from '../args.js';

/** The Settings keys that hold a number. */
export type NumberKey = { [K in keyof Settings]: Settings[K] extends number ? K : never }[keyof Settings];

export interface NumericSpec {
  word: string;
  key: NumberKey;
  /** 'WORD [N]: ...'; the compiled-in default is appended as " [D]". */
  help: string;
  /** Smallest value accepted from the operator (before clamp). */
  min: number;
  max?: number;
  /** Maps an accepted value to the stored one (Pen's "negative -> 0" rules). */
  clamp?: (n: number) => number;
  /** Values below the current one are ignored (clients_max, conn_max: tables only grow). */
  growOnly?: boolean;
  /** The reply; `set` tells whether a value was given. Default: the value and '\n'. */
  reply?: (value: number, set: boolean) => string;
  /** Write `WORD N` for `write` (default true). */
  render?: boolean;
}

export function numeric(spec: NumericSpec): Command {
  const { word, key } = spec;
  const reply = spec.reply ?? ((v: number) => `${v}\n`);
  return command({
    name: [word], help: `${spec.help} [${DEFAULTS[key]}]`,
    args: z.tuple([int('N', spec.min, spec.max).optional()]),
    run: async (ctx, [n]) => {
      if (n !== undefined) {
        const value = spec.clamp ? spec.clamp(n) : n;
        if (!spec.growOnly || value > ctx.settings()[key]) {
          await ctx.update((d) => { d[key] = value; });
        }
      }
      return reply(ctx.settings()[key], n !== undefined);
    },
    render: spec.render === false ? undefined : (s) => [`${word} ${s[key]}`],
  });
}
