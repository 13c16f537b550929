// UDP at DNS scale (spec/beyond-pen.md): how many replies end a flow, and how long a flow
// waits for its first reply. Both act in UDP mode (-U) only; in TCP mode setting them is
// refused rather than kept without effect.
import { z } from '../../config/zod.js';
import type { Settings } from '../../config/settings.js';
import { command, type Command } from '../command.js';
import { int, INT_MAX } from '../args.js';
import { commandError } from '../reply.js';
import type { ControlContext } from '../context.js';

type UdpKey = 'udpResponses' | 'udpTimeout';

function udpNumber(word: string, key: UdpKey, help: string): Command {
  return command({
    name: [word], help,
    args: z.tuple([int('N', 0, INT_MAX).optional()]),
    run: async (ctx: ControlContext, [n]) => {
      if (n !== undefined && n !== ctx.settings()[key]) {
        if (!ctx.settings().udp) throw commandError(`${word} needs UDP mode (-U)`);
        await ctx.update((d: Settings) => { d[key] = n; });
      }
      return `${ctx.settings()[key]}\n`;
    },
    render: (s) => (s[key] === 0 ? [] : [`${word} ${s[key]}`]),
  });
}

export const commands: Command[] = [
  udpNumber('udp_responses', 'udpResponses',
    'udp_responses [N]: end a UDP flow once it has relayed N replies (0 = never, the default; DNS: 1)'),
  udpNumber('udp_timeout', 'udpTimeout',
    'udp_timeout [S]: drop a UDP flow that has had no reply for S seconds (0 = after idle_timeout, the default)'),
];
