// A backend as written on the command line (also -e and -B):
//
//   host[:port[:maxc[:hard[:weight[:prio]]]]]
//   [host-or-ipv6][:port[:maxc[:hard[:weight[:prio]]]]]
//   /unix/path[::maxc[:hard[:weight[:prio]]]]      (any host containing '/'; port is 0)
//
// Omitted or empty port -> the default port (the listen port); omitted or empty numbers -> 0.
// Brackets are required around IPv6 literals and allowed around anything else (IPv4, names,
// unix paths that contain ':'). Unlike Pen (atoi), every field is checked; a bad one throws
// PenError PEN_ERR_SERVER_SPEC naming the spec and the field.
import { isIPv6 } from 'node:net';
import { PenError } from '../errors.js';
import type { Server } from './settings.js';
import { parsePort, type PortOptions } from './listen-spec.js';

export interface ServerSpecContext extends PortOptions {
  /** How the spec is named in errors: 'backend' (default), 'emergency server (-e)', ... */
  role?: string;
  /** Completes "needs an explicit port ..." when the default port is 0. */
  noDefaultPort?: string;
}

const INT_MAX = 2 ** 31 - 1;
const NUMBER_FIELDS = ['maxc', 'hard', 'weight', 'prio'] as const;

/** True when some colon-delimited prefix of an unbracketed spec is an IPv6 literal. */
function startsWithBareIPv6(spec: string): boolean {
  for (let i = spec.indexOf(':'); i >= 0; i = spec.indexOf(':', i + 1)) {
    if (isIPv6(spec.slice(0, i))) return true;
  }
  return isIPv6(spec);
}

/**
 * Parses one server spec. `defaultPort` fills an omitted port; 0 means there is no default
 * (unix or OS-chosen listener), so an inet spec without a port is an error.
 * Returns a Server with acl 0. Throws PenError PEN_ERR_SERVER_SPEC.
 */
export function parseServerSpec(spec: string, defaultPort: number,
  ctx: ServerSpecContext = {}): Server {
  const role = ctx.role ?? 'backend';
  const fail = (reason: string): never => {
    throw new PenError('PEN_ERR_SERVER_SPEC', { role, spec, reason });
  };
  if (spec === '') fail('is empty');

  let host: string;
  let fields: string[];
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close < 0) return fail('has "[" without "]"');
    host = spec.slice(1, close);
    const rest = spec.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) fail(`has "${rest}" after "]" where ":PORT" was expected`);
    fields = rest === '' ? [] : rest.slice(1).split(':');
  } else {
    if (startsWithBareIPv6(spec)) fail('starts with an IPv6 address without brackets; write e.g. [::1]:8080');
    [host, ...fields] = spec.split(':') as [string, ...string[]];
  }
  if (host === '') fail('has an empty host');
  if (/[\s[\]]/.test(host)) fail(`has a bad host "${host}"`);
  if (/^\d+$/.test(host)) fail(`has a host "${host}" that looks like a port; write host:port`);
  const unix = host.includes('/');
  if (!unix && host.includes(':') && !isIPv6(host)) fail(`has a host "${host}" that is not an IPv6 address`);
  if (fields.length > 5) fail('has too many fields (at most host:port:maxc:hard:weight:prio)');

  const portText = fields[0] ?? '';
  let port: number;
  if (unix) {
    if (portText !== '' && portText !== '0') {
      fail(`is a unix socket path and takes no port (got "${portText}")`);
    }
    port = 0;
  } else if (portText === '') {
    if (defaultPort === 0) {
      fail(`needs an explicit port ${ctx.noDefaultPort ?? 'because the listen port is 0'}`);
    }
    port = defaultPort;
  } else {
    const p = parsePort(portText, 1, ctx);
    port = 'reason' in p ? fail(p.reason) : p.port;
  }

  const numbers = NUMBER_FIELDS.map((name, i) => {
    const text = fields[i + 1] ?? '';
    if (text === '') return 0;
    if (!/^\d+$/.test(text) || Number(text) > INT_MAX) {
      return fail(`has a bad ${name} "${text}" (expected a whole number 0..${INT_MAX})`);
    }
    return Number(text);
  });
  const [maxc = 0, hard = 0, weight = 0, prio = 0] = numbers;
  return { host, port, maxc, hard, weight, prio, acl: 0 };
}

/** How pen names a server's address in messages: host:port, [ipv6]:port or the unix path. */
export function formatEndpoint(host: string | null, port: number): string {
  if (host === null) return `0.0.0.0:${port}`;
  if (host.includes('/')) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
