// The server table: `server N ...` to create or change a backend, `servers` to list them.
import { isIP, isIPv6 } from 'node:net';
import { z } from '../../config/zod.js';
import type { Server } from '../../config/settings.js';
import { ACL_LISTS } from '../../config/acl.js';
import { command, type Command } from '../command.js';
import { int, none, wholeNumber, word } from '../args.js';
import { commandError } from '../reply.js';

/** Server indexes run 0..MAX_SERVERS-1; a typo like `server 99999999` must not allocate. */
export const MAX_SERVERS = 65536;

/**
 * A slot that exists only because a higher index was configured (Pen's placeholder). Address
 * 0.0.0.0 is Pen's "disabled" address and port 0 makes it unusable: it is never selected
 * (quirk 23) and `servers` shows it as such.
 */
export function placeholderServer(): Server {
  return { host: '0.0.0.0', port: 0, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 };
}

/** The operator's ADDR, checked: host name, IPv4/IPv6 literal (brackets allowed) or unix path. */
function checkAddress(text: string): string {
  const addr = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
  if (addr.includes('/') || isIP(addr) !== 0) return addr;
  if (/^[A-Za-z0-9_.-]+$/.test(addr)) return addr;
  if (addr.includes(':') && !isIPv6(addr)) throw commandError(`"${text}" is not an IPv6 address`);
  throw commandError(`"${text}" is not a host name, an IP address or a unix socket path`);
}

const KEYS = 'acl, address, port, max, hard, blacklist, weight or prio';

/** Parses the key/value words of `server N ...` into changes and an optional blacklist time. */
function parseServerWords(rest: readonly string[]): { changes: Partial<Server>; blacklist?: number } {
  const changes: Partial<Server> = {};
  let blacklist: number | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i]!;
    const value = rest[i + 1];
    if (value === undefined) throw commandError(`missing value after "${key}"`);
    switch (key) {
      case 'acl': changes.acl = wholeNumber(value, 'acl', 0, ACL_LISTS - 1); break;
      case 'address': changes.host = checkAddress(value); break;
      case 'port': changes.port = wholeNumber(value, 'port', 0, 65535); break;
      case 'max': changes.maxc = wholeNumber(value, 'max', 0); break;
      case 'hard': changes.hard = wholeNumber(value, 'hard', 0); break;
      case 'weight': changes.weight = wholeNumber(value, 'weight', 0); break;
      case 'prio': changes.prio = wholeNumber(value, 'prio', 0); break;
      case 'blacklist': blacklist = wholeNumber(value, 'blacklist', 0); break;
      default: throw commandError(`unknown key "${key}" (expected ${KEYS})`);
    }
  }
  return { changes, blacklist };
}

export const commands: Command[] = [
  command({
    name: ['server'],
    help: 'server N [acl A] [address ADDR] [port P] [max M] [hard H] [blacklist T] [weight W] [prio P]: ' +
      'change server N, or create it when the command gives its address (all keys are checked before anything changes)',
    args: z.tuple([int('the server number', 0, MAX_SERVERS - 1)], word),
    run: async (ctx, [n, ...rest]) => {
      const { changes, blacklist } = parseServerWords(rest);
      const count = ctx.settings().servers.length;
      // Only an address creates a server: `server 5 blacklist 60` with two servers is a typo,
      // not a request for placeholders 2-5 (which `write` would then save).
      if (n >= count && changes.host === undefined) {
        throw commandError(`server ${n} does not exist (servers are 0..${count - 1}); ` +
          `to add it, give its address: server ${n} address HOST port PORT`);
      }
      if (Object.keys(changes).length > 0) {
        await ctx.update((d) => {
          while (d.servers.length <= n) d.servers.push(placeholderServer());
          Object.assign(d.servers[n]!, changes);
        });
      }
      // Blacklisting acts on runtime state, after the table has the server.
      if (blacklist !== undefined) ctx.engine.blacklist(n, blacklist);
    },
    render: (s) => s.servers.map((v, i) =>
      `server ${i} acl ${v.acl} address ${v.host} port ${v.port} max ${v.maxc} hard ${v.hard}` +
      ` weight ${v.weight} prio ${v.prio}`),
  }),
  command({
    name: ['servers'], help: 'servers: list the servers with their limits and counters', args: none,
    run: (ctx) => {
      const stats = ctx.engine.stats();
      // Pen's line; with DSR (dsr_if) the frames and bytes forwarded to the server follow.
      const dsr = (i: number) =>
        (i < stats.dsrFrames.length ? ` frames ${stats.dsrFrames[i]} bytes ${stats.dsrBytes[i] ?? 0n}` : '');
      return ctx.settings().servers.map((v, i) =>
        `${i} addr ${v.host} port ${v.port} conn ${stats.conn[i] ?? 0n} max ${v.maxc} hard ${v.hard}` +
        ` weight ${v.weight} prio ${v.prio} sx ${stats.sx[i] ?? 0n} rx ${stats.rx[i] ?? 0n}${dsr(i)}\n`).join('');
    },
  }),
];
