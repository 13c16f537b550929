// The LISTEN argument (first positional of `pen`, also the `listen` command) and port fields.
//
// Accepted forms:
//   port              all IPv4 addresses (host null = 0.0.0.0)
//   :port             the same (empty host = wildcard)
//   host:port         split at the LAST colon; host is a name or an IPv4/IPv6 literal
//   ::1:8080 :::8080  everything before the last colon is an IPv6 address (':::8080' = [::]:8080)
//   [host]:port       brackets around IPv6, IPv4 or a name (Pen refuses brackets here; pen does not)
//   anything with '/' a unix-domain stream socket path
// `port` is 1..65535 or a tcp service name from /etc/services. Port 0 is accepted and means
// "let the OS choose"; backends then need explicit ports, as with a unix listener.
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { PenError } from '../errors.js';

export type ListenSpec =
  | { kind: 'inet'; host: string | null; port: number }
  | { kind: 'unix'; path: string };

export const SERVICES_FILE = '/etc/services';

export interface PortOptions {
  /** Services database to read names from; defaults to /etc/services. */
  servicesFile?: string;
  proto?: 'tcp' | 'udp';
}

/** file -> ("name/proto" -> port); each file is read once per process. */
const servicesCache = new Map<string, Map<string, number>>();

function loadServices(file: string): Map<string, number> {
  let table = servicesCache.get(file);
  if (table) return table;
  table = new Map();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // A missing or unreadable file means "no service names", not an error.
  }
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(fields[1] ?? '');
    if (!m) continue;
    const port = Number(m[1]);
    for (const name of [fields[0], ...fields.slice(2)]) {
      const key = `${name}/${m[2]}`;
      if (!table.has(key)) table.set(key, port); // the first entry wins, like getservbyname
    }
  }
  servicesCache.set(file, table);
  return table;
}

/** The port of a service name (or alias) for `proto`, or null if the database lacks it. */
export function lookupService(name: string, proto: 'tcp' | 'udp' = 'tcp',
  file: string = SERVICES_FILE): number | null {
  return loadServices(file).get(`${name}/${proto}`) ?? null;
}

/**
 * Port text -> number. Decimal digits or a service name. Returns the port, or a reason phrased
 * to follow a subject ("has ...") for the caller's error. `min` is 1, or 0 where 0 has a meaning.
 */
export function parsePort(text: string, min: 0 | 1, opts: PortOptions = {}):
  { port: number } | { reason: string } {
  const range = min === 0 ? '1..65535, or 0 to let the OS choose' : '1..65535';
  const expected = min === 0 ? '1..65535, 0 or a service name' : '1..65535 or a service name';
  if (text === '') return { reason: 'has an empty port' };
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port < min || port > 65535) return { reason: `has port ${text} out of range (${range})` };
    return { port };
  }
  if (!/^[A-Za-z][\w.+-]*$/.test(text)) {
    return { reason: `has a bad port "${text}" (expected ${expected})` };
  }
  const proto = opts.proto ?? 'tcp';
  const file = opts.servicesFile ?? SERVICES_FILE;
  const port = lookupService(text, proto, file);
  if (port === null) {
    return { reason: `has a port "${text}" that is not a ${proto} service in ${file}; give a number` };
  }
  return { port };
}

/** Host text usable as a name or literal: non-empty, no spaces, no brackets, no '/'. */
function badHost(host: string): string | null {
  if (/[\s[\]/]/.test(host)) return `has a bad host "${host}"`;
  if (host.includes(':') && !isIPv6(host)) {
    return `has a host "${host}" that is neither a name nor an IPv6 address`;
  }
  return null;
}

/** Parses LISTEN; throws PenError PEN_ERR_LISTEN_SPEC naming `spec` and the problem. */
export function parseListenSpec(spec: string, opts: PortOptions = {}): ListenSpec {
  const fail = (reason: string): never => {
    throw new PenError('PEN_ERR_LISTEN_SPEC', { spec, reason });
  };
  if (spec === '') fail('is empty');
  if (spec.includes('/')) return { kind: 'unix', path: spec };

  let host: string | null;
  let portText: string;
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close < 0) fail('has "[" without "]"');
    host = spec.slice(1, close);
    if (host === '') fail('has nothing between "[" and "]"');
    const rest = spec.slice(close + 1);
    if (rest === '') fail('needs a port after "]", e.g. [::1]:8080');
    if (!rest.startsWith(':')) fail(`has "${rest}" after "]" where ":PORT" was expected`);
    portText = rest.slice(1);
  } else {
    const colon = spec.lastIndexOf(':');
    host = colon < 0 ? null : spec.slice(0, colon) || null;
    portText = spec.slice(colon + 1);
  }
  if (host !== null) {
    const why = badHost(host);
    if (why) fail(why);
  }
  const p = parsePort(portText, 0, opts);
  if ('reason' in p && host === null && (isIPv4(spec) || /^[A-Za-z][\w.-]*$/.test(spec))) {
    // `pen 127.0.0.1 ...` or `pen web1 ...`: a host where the port belongs.
    const service = isIPv4(spec) ? ''
      : ` (or "${spec}" is not a ${opts.proto ?? 'tcp'} service in ${opts.servicesFile ?? SERVICES_FILE})`;
    return fail(`has no port${service}: LISTEN is PORT, HOST:PORT or [IPV6]:PORT, e.g. ${spec}:8080`);
  }
  if ('reason' in p) return fail(p.reason);
  return { kind: 'inet', host, port: p.port };
}

/**
 * The port a backend gets when its spec names none: the listen port. 0 for a unix listener
 * and for an OS-chosen port, which callers treat as "backends need an explicit port" (quirk 48).
 */
export function listenPort(listen: ListenSpec): number {
  return listen.kind === 'unix' ? 0 : listen.port;
}
