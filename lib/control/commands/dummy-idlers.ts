// The dummy server and idle backend connections (spec/dataplane.md §7-8; native/tcp/dummy.h,
// native/tcp/idlers.h): `dummy` answers every TCP client with Pen's fixed HTTP reply instead
// of balancing (over TLS with -E); `idlers N` keeps N backend connections open without a client, which the next
// client for that server takes instead of connecting.
import { z } from '../../config/zod.js';
import type { Settings } from '../../config/settings.js';
import { command, type Command } from '../command.js';
import { int, none } from '../args.js';
import { commandError } from '../reply.js';

/** Why `dummy` cannot be on with these settings, or null. */
export function dummyRefusal(s: Readonly<Settings>): string | null {
  if (s.udp) return 'the dummy server answers TCP clients; it does not work with -U';
  if (s.dsrIf !== null) return 'with dsr_if pen never answers a client itself';
  return null;
}

/** Why `idlers n` cannot be set with these settings, or null. */
export function idlersRefusal(s: Readonly<Settings>, n: number): string | null {
  if (n === 0) return null;
  if (s.udp) return 'idle backend connections are TCP connections; they do not work with -U';
  if (s.dsrIf !== null) return 'with dsr_if pen makes no backend connection for clients';
  if (n >= s.connMax) {
    return `${n} is too many: idlers take connection slots, so at most conn_max - 1 (${s.connMax - 1}) ` +
      'may be kept, leaving room for clients';
  }
  return null;
}

const idlersReply = (current: number, wanted: number): string => `Idlers: ${current}/${wanted}\n`;

export const commands: Command[] = [
  command({
    name: ['dummy'], help: 'dummy: answer every client with a fixed HTTP reply instead of balancing (a test target)',
    args: none,
    run: async (ctx) => {
      const why = dummyRefusal(ctx.settings());
      if (why !== null) throw commandError(why);
      await ctx.update((d) => { d.dummy = true; });
    },
    render: (s) => (s.dummy ? ['dummy'] : []),
  }),
  command({
    name: ['no dummy'], help: 'no dummy: balance again', args: none,
    run: async (ctx) => { await ctx.update((d) => { d.dummy = false; }); },
  }),
  command({
    name: ['idlers'],
    help: 'idlers [N]: show (current/wanted) or set how many idle backend connections to keep (below conn_max) [0]',
    args: z.tuple([int('N', 0).optional()]),
    run: async (ctx, [n]) => {
      if (n !== undefined) {
        const why = idlersRefusal(ctx.settings(), n);
        if (why !== null) throw commandError(why);
        await ctx.update((d) => { d.idlers = n; });
      }
      return idlersReply(ctx.engine.stats().idlers, ctx.settings().idlers);
    },
    render: (s) => (s.idlers > 0 ? [`idlers ${s.idlers}`] : []),
  }),
];
