// The process and its sockets: pid, exit, listen, control, the event backend, help.
import { z } from '../../config/zod.js';
import { parseListenSpec } from '../../config/listen-spec.js';
import { command, helpText, type Command } from '../command.js';
import { MAX_WORKERS, workersOf } from '../../config/workers.js';
import { none, wholeNumber, word, words } from '../args.js';
import { commandError, fail } from '../reply.js';

/** Schema: `auto`, or a number of workers. */
const workerCount = z.string().transform((s, c) => {
  if (s === 'auto') return 'auto' as const;
  try {
    return wholeNumber(s, 'the number of workers', 1, MAX_WORKERS);
  } catch (e) {
    c.addIssue({ code: 'custom', message: `${(e as Error).message} (or auto)` });
    return z.NEVER;
  }
});

/** Event backends the data plane may offer; `select` is in unsupported.ts. */
const POLLERS = ['epoll', 'kqueue', 'poll'] as const;

export const commands: Command[] = [
  command({
    name: ['pid'], help: 'pid: show the process id', args: none,
    run: (ctx) => `${ctx.pid}\n`,
  }),
  command({
    name: ['exit'], help: 'exit: shut pen down like SIGTERM (only when started with -X)', args: none,
    run: (ctx) => {
      if (!ctx.settings().exitEnabled) return fail('Exit is not enabled; restart with -X flag\n');
      ctx.exit();
    },
  }),
  command({
    name: ['listen'], help: 'listen [ADDR]: show the listen address, or move the listener to ADDR',
    args: z.tuple([word.optional()]),
    run: async (ctx, [addr]) => {
      if (addr !== undefined && addr !== ctx.settings().listen) {
        parseListenSpec(addr); // a malformed ADDR is refused before anything is touched
        await ctx.reopenListener(addr); // keeps the old listener if the new one fails
        await ctx.update((d) => { d.listen = addr; });
      }
      return `${ctx.settings().listen ?? '(null)'}\n`;
    },
    render: (s) => (s.listen === null ? [] : [`listen ${s.listen}`]),
  }),
  command({
    name: ['control'], help: 'control: show the control socket address (-C)', args: none,
    run: (ctx) => `${ctx.settings().control ?? '(null)'}\n`,
  }),
  ...POLLERS.map((name, i) => command({
    name: [name], help: `${name}: use ${name} for the event loop, one system call per socket read and write (start-up only: -O or the -F file)`, args: none,
    run: async (ctx, _args, call) => {
      if (ctx.settings().eventBackend === name) return;
      if (call.origin === 'socket') {
        throw commandError('the event backend is chosen at start-up (-O or the -F file); restart pen to change it');
      }
      await ctx.update((d) => { d.eventBackend = name; });
    },
    // One entry writes the choice for all three.
    render: i === 0 ? (s) => (s.eventBackend === 'default' ? [] : [s.eventBackend]) : undefined,
  })),
  command({
    name: ['workers'],
    help: 'workers [N|auto]: show or set the number of data-plane threads, auto = one per CPU (start-up only: -O or the -F file) [1]',
    args: z.tuple([workerCount.optional()]),
    run: async (ctx, [n], call) => {
      if (n === undefined) return `${workersOf(ctx.settings())}\n`;
      if (n === ctx.settings().workers) return;
      if (call.origin === 'socket') {
        throw commandError('the number of workers is set at start-up (-O or the -F file); restart pen to change it');
      }
      await ctx.update((d) => { d.workers = n; });
    },
    render: (s) => (s.workers === 1 ? [] : [`workers ${s.workers}`]),
  }),
  command({
    name: ['help'], help: 'help [COMMAND]: list the commands, or describe one', args: words,
    run: (_ctx, name, call) => {
      if (name.length === 0) return helpText(call.table);
      const cmd = call.table.byName.get(name.join(' '));
      if (!cmd) throw commandError(`no command "${name.join(' ')}"`);
      return `${cmd.help}\n`;
    },
  }),
];
