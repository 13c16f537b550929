// Global knobs: timers, table sizes, socket options, source address, transparent, debug.
import { isIP } from 'node:net';
import { TIMEOUT_MAX } from '../../config/settings.js';
import { z } from '../../config/zod.js';
import { command, type Command } from '../command.js';
import { INT_MAX, none, oneOf, word } from '../args.js';
import { commandError, fail } from '../reply.js';
import { flag } from './flag.js';
import { numeric } from './numeric.js';

const FASTCLOSE = ['up', 'down', 'both', 'off'] as const;

export const commands: Command[] = [
  numeric({ word: 'blacklist', key: 'blacklist', min: 0,
    help: 'blacklist [N]: show or set how many seconds a failed server is skipped' }),
  numeric({ word: 'timeout', key: 'timeout', min: 1, max: TIMEOUT_MAX,
    help: 'timeout [N]: show or set the backend connect timeout in seconds (>= 1)' }),
  numeric({ word: 'tracking', key: 'tracking', min: 0,
    help: 'tracking [N]: show or set how many seconds a client is remembered (0 = forever)' }),
  numeric({ word: 'debug', key: 'debug', min: 0,
    help: 'debug [N]: show or set the debug level' }),
  numeric({ word: 'clients_max', key: 'clientsMax', min: 1, growOnly: true,
    help: 'clients_max [N]: show or grow the client table (smaller values are ignored)' }),
  numeric({ word: 'conn_max', key: 'connMax', min: 1, growOnly: true,
    help: 'conn_max [N]: show or grow the connection table (smaller values are ignored)' }),
  numeric({ word: 'pending_max', key: 'pendingMax', min: -INT_MAX, clamp: (n) => Math.max(n, 1),
    help: 'pending_max [N]: show or set how many backend connects may be in progress (<= 0 means 1)',
    reply: (v, set) => (set ? '' : `${v}\n`) }),
  numeric({ word: 'idle_timeout', key: 'idleTimeout', min: -INT_MAX, clamp: (n) => Math.max(n, 0),
    help: 'idle_timeout [N]: show or set after how many idle seconds a connection is closed (0 = never; UDP flows then use 60)',
    reply: (v) => `Idle timeout: ${v} seconds\n` }),

  ...flag('tcp_nodelay', 'tcpNodelay', 'set TCP_NODELAY on the sockets pen creates'),
  ...flag('keepalive', 'keepalive', 'set SO_KEEPALIVE on backend sockets'),
  ...flag('abort_on_error', 'abortOnError', 'fatal errors abort() (dump core) instead of exiting'),

  command({
    name: ['tcp_fastclose'], help: 'tcp_fastclose up|down|both|off: close both sides once one side has closed',
    args: z.tuple([oneOf('the argument', FASTCLOSE).optional()]),
    run: async (ctx, [mode]) => {
      if (mode === undefined) return fail('do_cmd: ignoring tcp_fastclose without argument\n');
      await ctx.update((d) => { d.tcpFastclose = mode; });
    },
    render: (s) => [`tcp_fastclose ${s.tcpFastclose}`],
  }),

  command({
    name: ['source'], help: 'source [IP]: show, or bind new backend sockets to IP',
    args: z.tuple([word.optional()]),
    run: async (ctx, [ip]) => {
      if (ip === undefined) return ctx.settings().source === null ? '' : `${ctx.settings().source}\n`;
      if (isIP(ip) === 0) return fail(`unable to set source address to '${ip}'\n`);
      await ctx.update((d) => { d.source = ip; });
    },
    render: (s) => [s.source === null ? 'no source' : `source ${s.source}`],
  }),
  command({
    name: ['no source'], help: 'no source: let the system choose the backend source address', args: none,
    run: async (ctx) => { await ctx.update((d) => { d.source = null; }); },
  }),

  // transparent (spec/dsr-tarpit-transparent.md §3): new backend sockets, TCP and UDP, bind to
  // their client's address; `source` wins while set, as in Pen. Refused where it cannot work:
  // with dsr_if, and once -u has taken CAP_NET_RAW away from the data plane (ctx says why).
  command({
    name: ['transparent'],
    help: "transparent: connect to backends from the client's address (TCP and UDP; not while source is set)",
    args: none,
    run: async (ctx) => {
      const s = ctx.settings();
      if (s.transparent) return;
      if (s.dsrIf !== null) throw commandError("it does not go with dsr_if: with Direct Server Return the servers see the clients' addresses already");
      const refusal = ctx.transparentRefusal?.() ?? null;
      if (refusal !== null) throw commandError(refusal);
      await ctx.update((d) => { d.transparent = true; });
    },
    render: (s) => (s.transparent ? ['transparent'] : []),
  }),
  command({
    name: ['no transparent'], help: "no transparent: connect to backends from pen's own address", args: none,
    run: async (ctx) => { await ctx.update((d) => { d.transparent = false; }); },
  }),
];
