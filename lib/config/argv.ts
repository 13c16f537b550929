// pen's command line -> Settings (spec/cli.md), with pen's own decisions where Pen misbehaves:
//  - getopt semantics: clustered flags (-fr), attached or separate arguments (-x500, -x 500),
//    GNU permutation (options may follow positionals), `--` ends options, `-?`/--help, --version.
//  - every error throws PenError (exit 2); Pen printed its usage and exited 0.
//  - numbers must be whole decimal numbers in range (Pen used atoi: `-x abc` was 0).
//  - -O/-o commands are collected in order, not executed: the control table runs them later.
// Positionals: LISTEN then BACKENDs. If an -O command is `listen ADDR`, the listener is already
// given, so every positional is a backend (Pen silently dropped the first one, quirk 40).
import path from 'node:path';

import { PenError } from '../errors.js';
import { SettingsSchema, TIMEOUT_MAX, defaultSettings, type Settings } from './settings.js';
import { listenPort, parseListenSpec, type ListenSpec, type PortOptions } from './listen-spec.js';
import { parseServerSpec } from './server-spec.js';
import { parseLogDestination } from '../log/access.js';

export type ParsedArgv =
  | { action: 'run'; settings: Settings; commands: string[]; warnings: string[] }
  | { action: 'help' }
  | { action: 'version' };

interface State {
  settings: Settings;
  commands: string[];
  warnings: string[];
  emergency: string | null; // -e spec, parsed once the listen port is known
  abuse: string | null; //     -B spec, likewise
}

interface OptionDef {
  arg: boolean;
  run: (st: State, value: string) => void;
}

const INT_MAX = 2 ** 31 - 1;

function usageError(detail: string): PenError {
  return new PenError('PEN_ERR_USAGE', { detail });
}

/** Whole decimal number (optional '-') within min..max, else PEN_ERR_RANGE naming `what`. */
function wholeNumber(what: string, text: string, min: number, max = INT_MAX): number {
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    const expected = min <= -INT_MAX ? `a whole number up to ${max}`
      : `a whole number from ${min} to ${max}`;
    throw new PenError('PEN_ERR_RANGE', { what, expected, value: text });
  }
  return n;
}

function nonEmpty(opt: string, text: string): string {
  if (text === '') throw usageError(`option -${opt} needs a non-empty argument`);
  return text;
}

const flag = (run: (st: State) => void): OptionDef => ({ arg: false, run });
const withArg = (run: (st: State, value: string) => void): OptionDef => ({ arg: true, run });
const obsolete = (arg: boolean, message: string): OptionDef =>
  ({ arg, run: (st) => { st.warnings.push(message); } });

/** Every option letter pen knows; anything else is "unknown option". */
const OPTIONS: Readonly<Record<string, OptionDef>> = {
  C: withArg((st, v) => {
    parseListenSpec(nonEmpty('C', v)); // checked now; opened at start-up
    st.settings.control = v;
  }),
  F: withArg((st, v) => { st.settings.configFile = nonEmpty('F', v); }),
  b: withArg((st, v) => { st.settings.blacklist = wholeNumber('-b (blacklist seconds)', v, 0); }),
  c: withArg((st, v) => { st.settings.clientsMax = wholeNumber('-c (client table size)', v, 1); }),
  d: flag((st) => { st.settings.debug += 1; }),
  e: withArg((st, v) => { st.emergency = v; }),
  B: withArg((st, v) => { st.abuse = v; }),
  f: flag((st) => { st.settings.foreground = true; }),
  h: flag((st) => { st.settings.hash = true; }),
  j: withArg((st, v) => { st.settings.chroot = nonEmpty('j', v); }),
  m: withArg((st, v) => {
    const n = wholeNumber('-m (multi_accept)', v, -INT_MAX);
    if (n < 1) st.warnings.push('multi_accept bumped to 1');
    st.settings.multiAccept = Math.max(n, 1);
  }),
  p: withArg((st, v) => { st.settings.pidfile = nonEmpty('p', v); }),
  q: withArg((st, v) => {
    const n = wholeNumber('-q (listen_queue)', v, -INT_MAX);
    if (n < 50) st.warnings.push('listen_queue bumped to 50');
    st.settings.listenQueue = Math.max(n, 50);
  }),
  r: flag((st) => { st.settings.roundrobin = true; }),
  s: flag((st) => { st.settings.stubborn = true; }),
  t: withArg((st, v) => { st.settings.timeout = wholeNumber('-t (timeout seconds)', v, 1, TIMEOUT_MAX); }),
  T: withArg((st, v) => { st.settings.tracking = wholeNumber('-T (tracking seconds)', v, 0); }),
  U: flag((st) => { st.settings.udp = true; }),
  u: withArg((st, v) => { st.settings.user = nonEmpty('u', v); }),
  W: flag((st) => { st.settings.weight = true; }),
  x: withArg((st, v) => { st.settings.connMax = wholeNumber('-x (connection table size)', v, 1); }),
  X: flag((st) => { st.settings.exitEnabled = true; }),
  P: flag((st) => { st.settings.eventBackend = 'poll'; }),
  O: withArg((st, v) => { st.commands.push(nonEmpty('O', v)); }),
  l: withArg((st, v) => {
    parseLogDestination(nonEmpty('l', v)); // checked now; opened after the privilege drop
    st.settings.log = v;
  }),
  w: withArg((st, v) => { st.settings.webStats = nonEmpty('w', v); }),
  a: flag((st) => { st.settings.ascii = true; }),
  o: withArg((st, v) => { st.commands.push(nonEmpty('o', v)); }),

  D: obsolete(false, '-D: delayed forward was removed in 0.26.0'),
  n: obsolete(false, '-n: only non-blocking sockets since 0.26.0'),
  Q: obsolete(false, '-Q: kqueue is already the default where available'),
  S: obsolete(true, '-S: the server table grows dynamically since 0.28.1'),

  N: flag((st) => {
    st.settings.hash = true;
    st.settings.forgetServers = true;
  }),
  i: flag(() => {
    throw new PenError('PEN_ERR_UNSUPPORTED',
      { detail: '-i (Windows service) is not supported on this platform' });
  }),

  H: flag((st) => { st.settings.http = true; }),
  // TLS (spec/ssl.md). Paths are made absolute now: HUP re-reads them after chroot/daemon.
  E: withArg((st, v) => { st.settings.sslCert = path.resolve(nonEmpty('E', v)); }),
  K: withArg((st, v) => { st.settings.sslKey = path.resolve(nonEmpty('K', v)); }),
  G: withArg((st, v) => { st.settings.sslCaFile = path.resolve(nonEmpty('G', v)); }),
  A: withArg((st, v) => { st.settings.sslCaDir = path.resolve(nonEmpty('A', v)); }),
  Z: flag((st) => { st.settings.sslBugWorkarounds = true; }),
  R: flag((st) => { st.settings.sslVerifyClient = true; }),
  L: withArg((st, v) => { st.settings.sslProtocol = tlsProtocol(v); }),
};

/**
 * -L: Pen's names for a protocol floor. ssl23 (the default) and tls1 mean TLS 1.2, the lowest
 * version pen speaks; tls1.2 and tls1.3 are pen's additions. SSLv2, SSLv3, TLS 1.0 and 1.1 are
 * refused by name: they are insecure and OpenSSL 3 no longer negotiates them by default.
 */
function tlsProtocol(v: string): Settings['sslProtocol'] {
  if (v === 'ssl23' || v === 'tls1' || v === 'tls1.2' || v === 'tls1.3') return v;
  const old: Record<string, string> = { ssl2: 'SSLv2', ssl3: 'SSLv3', 'tls1.0': 'TLS 1.0', 'tls1.1': 'TLS 1.1' };
  if (old[v]) {
    throw new PenError('PEN_ERR_UNSUPPORTED', {
      detail: `-L ${v}: ${old[v]} is insecure and not supported; pen speaks TLS 1.2 and 1.3 (-L tls1.3 for 1.3 only)`,
    });
  }
  throw usageError(`-L: protocol version ${v} not known (ssl23, tls1, tls1.2 or tls1.3)`);
}

/** The ADDR of the last `listen ADDR` among the commands (Pen splits commands on spaces). */
function listenFromCommands(commands: readonly string[]): string | null {
  let addr: string | null = null;
  for (const c of commands) {
    const [word, arg] = c.trim().split(/ +/);
    if (word === 'listen' && arg) addr = arg;
  }
  return addr;
}

/** Completes "needs an explicit port ..." when the listener gives backends no default port. */
function noDefaultPortReason(listen: ListenSpec): string {
  return listen.kind === 'unix' ? 'when listening on a unix socket'
    : 'when the listen port is 0 (chosen by the OS)';
}

/**
 * Parses pen's arguments (without the node and script names).
 * Returns help/version requests, or the Settings plus -O/-o commands (in order, unexecuted)
 * and warnings to print (bumped values, obsolete options). Throws PenError for every error;
 * its exitCode is 2. `opts.servicesFile` replaces /etc/services (tests).
 */
export function parseArgv(argv: readonly string[], opts: PortOptions = {}): ParsedArgv {
  const st: State = { settings: defaultSettings(), commands: [], warnings: [], emergency: null, abuse: null };
  const positionals: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      if (a === '--help') return { action: 'help' };
      if (a === '--version') return { action: 'version' };
      throw usageError(`unknown option ${a}`);
    }
    if (a.length < 2 || !a.startsWith('-')) {
      positionals.push(a); // includes a lone '-', as getopt does
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const letter = a[j]!;
      if (letter === '?') return { action: 'help' };
      const def = Object.hasOwn(OPTIONS, letter) ? OPTIONS[letter] : undefined;
      if (!def) throw usageError(`unknown option -${letter}`);
      if (!def.arg) {
        def.run(st, '');
        continue;
      }
      let value: string;
      if (j + 1 < a.length) value = a.slice(j + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw usageError(`option -${letter} requires an argument`);
      def.run(st, value);
      break;
    }
  }

  // Service names in LISTEN and BACKENDs are looked up for the protocol pen will speak.
  const portOpts: PortOptions = { ...opts, proto: st.settings.udp ? 'udp' : (opts.proto ?? 'tcp') };
  const fromCommand = listenFromCommands(st.commands);
  let listen: ListenSpec;
  let backends: string[];
  if (fromCommand !== null) {
    listen = parseListenSpec(fromCommand, portOpts); // settings.listen is left to the command
    backends = positionals;
  } else {
    const [first, ...rest] = positionals;
    if (first === undefined) {
      // `pen -F file`: the file may hold `listen` and the servers (what `write` saves).
      if (st.settings.configFile !== null) return finish(st);
      throw usageError('no LISTEN address given');
    }
    listen = parseListenSpec(first, portOpts);
    st.settings.listen = first;
    backends = rest;
  }
  // A backend is required unless an -O command or an -F file may add them (`server N ...`).
  // The caller checks the final server list once the commands have run.
  if (backends.length === 0 && st.commands.length === 0 && st.settings.configFile === null) {
    throw usageError('no BACKEND given: name at least one, e.g. pen 8080 127.0.0.1:8001');
  }

  const defaultPort = listenPort(listen);
  const ctx = { ...portOpts, noDefaultPort: noDefaultPortReason(listen) };
  st.settings.servers = backends.map((b) => parseServerSpec(b, defaultPort, ctx));
  if (st.emergency !== null) {
    st.settings.emergency =
      parseServerSpec(st.emergency, defaultPort, { ...ctx, role: 'emergency server (-e)' });
  }
  if (st.abuse !== null) {
    st.settings.abuse = parseServerSpec(st.abuse, defaultPort, { ...ctx, role: 'abuse server (-B)' });
  }
  return finish(st);
}

function finish(st: State): ParsedArgv {
  const s = st.settings;
  if (s.udp && (s.sslCert !== null || s.http)) {
    throw usageError(`${s.sslCert !== null ? '-E (TLS)' : '-H (HTTP headers)'} needs TCP: it cannot be combined with -U`);
  }
  if (s.sslCert === null && (s.sslKey !== null || s.sslCaFile !== null || s.sslCaDir !== null ||
    s.sslVerifyClient || s.sslBugWorkarounds || s.sslProtocol !== 'ssl23')) {
    st.warnings.push('-K, -G, -A, -R, -Z and -L have no effect without -E (TLS certificate)');
  }
  const settings = SettingsSchema.parse(st.settings); // a failure here is a bug in this file
  return { action: 'run', settings, commands: st.commands, warnings: st.warnings };
}
