// Runtime views of clients and connections, and forcing a connection closed.
import { z } from '../../config/zod.js';
import type { NativeConnection } from '../../engine/native.js';
import type { ControlContext } from '../context.js';
import { command, type Command } from '../command.js';
import { int, INT_MAX } from '../args.js';
import { fail, type Reply } from '../reply.js';

/**
 * Connection numbers are 0..conn_max-1, as Pen's table slots (also with several workers: the
 * numbers are the process's, native/balance/pool.h takeNumber); anything else is out of range.
 */
function outOfRange(ctx: ControlContext, n: number): Reply | null {
  return n < 0 || n >= ctx.settings().connMax ? fail(`Connection ${n} out of range\n`) : null;
}

function findConnection(ctx: ControlContext, n: number): NativeConnection | undefined {
  return ctx.engine.connections().find((c) => c.id === n);
}

const connectionNumber = int('the connection number', -INT_MAX);

export const commands: Command[] = [
  command({
    name: ['recent'], help: 'recent [S]: clients seen in the last S seconds (default 300)',
    args: z.tuple([int('S', 0).optional()]),
    run: (ctx, [seconds = 300]) => ctx.engine.clients(seconds)
      .map((c) => `${c.address} connects ${c.connects} sx ${c.sx} rx ${c.rx}\n`).join(''),
  }),
  command({
    name: ['connection'], help: 'connection [N]: show connection N (default 0)',
    args: z.tuple([connectionNumber.optional()]),
    run: (ctx, [n = 0]) => {
      const bad = outOfRange(ctx, n);
      if (bad) return bad;
      // An unused slot shows the empty values (Pen showed whatever the slot last held).
      const c = findConnection(ctx, n);
      return `Connection ${n}:\nstate = ${c?.state ?? 0}\n` +
        `downfd = ${c?.downfd ?? -1}, upfd = ${c?.upfd ?? -1}\n` +
        `client = ${c?.clientIndex ?? -1}, server = ${c?.server ?? -1}\n` +
        `pend = ${c && c.state & 1 ? 1 : 0}\n`;
    },
  }),
  command({
    name: ['close'], help: 'close [N]: force connection N (default 0) closed',
    args: z.tuple([connectionNumber.optional()]),
    run: (ctx, [n = 0]) => {
      const bad = outOfRange(ctx, n);
      if (bad) return bad;
      // Same reply for an unused slot, but nothing is touched (quirk 12).
      ctx.engine.closeConnection(n);
      return `Forcibly closing connection ${n}\n`;
    },
  }),
  command({
    name: ['socket'], help: 'socket N: which connection file descriptor N belongs to (-1: none)',
    args: z.tuple([int('N', -INT_MAX)]),
    run: (ctx, [fd]) => {
      const c = ctx.engine.connections().find((x) => x.downfd === fd || x.upfd === fd);
      return `Socket ${fd} belongs to connection ${c?.id ?? -1}\n`;
    },
  }),
];
