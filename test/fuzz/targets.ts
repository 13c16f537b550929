// Fuzz targets for the control plane's parsers (issue 12): random and mutated inputs from a
// fixed seed, so a failure reproduces. Each target checks properties, not just "no crash":
//  - tokenize: words are non-empty, hold no separator, and re-tokenize to themselves;
//  - parseTarget (penctl): always returns one of its three shapes, ports in range;
//  - parseArgv / parseServerSpec: return, or throw a PenError (never another error);
//  - dispatch (every command's argument parser and handler, on an in-memory context): never
//    rejects, replies a string, and leaves settings that SettingsSchema accepts;
//  - the config-file reader (loadConfigFile: run, then apply as a diff): never throws, reports
//    errors with their line numbers, and a file with errors changes nothing.
// test/fuzz/parsers.test.ts runs each briefly in `npm test`; `npm run fuzz` (scripts/fuzz.js)
// runs them for FUZZ_SECONDS.
import assert from 'node:assert/strict';

import { parseArgv } from '../../lib/config/argv.js';
import { parseServerSpec } from '../../lib/config/server-spec.js';
import { SettingsSchema } from '../../lib/config/settings.js';
import { parseTarget } from '../../lib/cli/penctl.js';
import { dispatch } from '../../lib/control/dispatch.js';
import { loadConfigFile } from '../../lib/control/reload.js';
import { commandTable } from '../../lib/control/table.js';
import { tokenize } from '../../lib/control/tokenize.js';
import { isPenError } from '../../lib/errors.js';
import { makeContext } from '../unit/control-fixture.js';

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number { return Math.floor(this.rnd() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  chance(p: number): boolean { return this.rnd() < p; }
}

const COMMANDS = [...commandTable().byName.keys()];
const WORDS = [
  '0', '1', '-1', '2147483647', '2147483648', '2147483', '2147484', '99999999999999999999', '1e309', 'NaN', '0x10',
  '-0', '007', '', ' ', '\t', 'on', 'off', 'no', 'yes', 'up', 'down', 'both', 'permit', 'deny', 'country', 'SE',
  'address', 'port', 'max', 'hard', 'weight', 'prio', 'blacklist', 'acl', '127.0.0.1', '::1', '[::1]:80', '::ffff:1.2.3.4',
  '10.0.0.0', '255.0.0.0', '2001:db8::/32', '/tmp/pen-fuzz.cfg', '/dev/zero', 'a.invalid', 'host:port', ':80', '1:2:3:4:5:6:7',
  '#', '\u00e9', '\u0000', '\r', '\n', 'x'.repeat(300), 'http', 'https', 'tls1.3', 'include', 'write',
];
const ARGV_WORDS = ['-f', '-r', '-h', '-W', '-s', '-H', '-U', '-T', '-b', '-e', '-x', '-t', '-c', '-m', '-q', '-p', '-u', '-j',
  '-O', '-C', '-F', '-l', '-w', '-d', '-a', '-E', '-K', '-G', '-A', '-R', '-L', '-P', '-X', '-S', '-Z', '--help', '--',
  '8080', '127.0.0.1:8080', 'web1:80', '[::1]:80:10:20:3:1', 'a:b:c', '/run/x.sock', '0', '-5', '65536'];

/** A random edit of s: insert, delete, replace, duplicate a piece, or splice in a word. */
export function mutate(g: Gen, s: string, words: readonly string[] = WORDS): string {
  const n = 1 + g.int(4);
  for (let k = 0; k < n; k++) {
    const at = g.int(s.length + 1);
    switch (g.int(6)) {
      case 0: s = s.slice(0, at) + String.fromCharCode(g.int(g.chance(0.8) ? 128 : 0x10000)) + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + g.int(8)); break;
      case 2: s = s.slice(0, at) + String.fromCharCode(32 + g.int(95)) + s.slice(at + 1); break;
      case 3: { const len = g.int(16); s = s.slice(0, at) + s.slice(at, at + len).repeat(1 + g.int(3)) + s.slice(at + len); break; }
      case 4: s = `${s.slice(0, at)} ${g.pick(words)} ${s.slice(at)}`; break;
      default: s = s.slice(0, at) + g.pick(words) + s.slice(at); break;
    }
  }
  return s;
}

/** A plausible command line: a command name and 0..5 words, maybe mutated. */
export function commandLine(g: Gen): string {
  const words = [g.pick(COMMANDS)];
  for (let i = g.int(6); i > 0; i--) words.push(g.pick(WORDS));
  const line = words.join(' ');
  return g.chance(0.5) ? mutate(g, line) : line;
}

export interface Target {
  name: string;
  /** One execution with inputs drawn from g; throws (an assertion) on a property violation. */
  one(g: Gen): Promise<void> | void;
}

function expectPenError(run: () => unknown, input: unknown): void {
  try {
    run();
  } catch (e) {
    if (!isPenError(e)) throw new Error(`not a PenError for ${JSON.stringify(input)}: ${(e as Error).stack}`);
  }
}

export const targets: Target[] = [
  {
    name: 'tokenize',
    one(g) {
      const line = g.chance(0.5) ? commandLine(g) : mutate(g, g.pick(WORDS).repeat(1 + g.int(3)));
      const words = tokenize(line);
      for (const w of words) assert.ok(w !== '' && !/[ \t\r\n]/.test(w), `bad word ${JSON.stringify(w)} from ${JSON.stringify(line)}`);
      assert.deepEqual(tokenize(words.join(' ')), words);
    },
  },
  {
    name: 'penctl parseTarget',
    one(g) {
      const text = mutate(g, g.pick(['127.0.0.1:10080', '[::1]:10080', '::1:10080', ':8080', '/run/pen.ctl', 'localhost:http']));
      const t = parseTarget(text);
      if ('port' in t) assert.ok(Number.isInteger(t.port) && t.port >= 1 && t.port <= 65535, JSON.stringify([text, t]));
      else assert.ok('path' in t || ('error' in t && t.error.length > 0), JSON.stringify([text, t]));
    },
  },
  {
    name: 'parseArgv',
    one(g) {
      const argv: string[] = [];
      for (let i = 1 + g.int(8); i > 0; i--) argv.push(g.chance(0.3) ? mutate(g, g.pick(ARGV_WORDS), ARGV_WORDS) : g.pick(ARGV_WORDS));
      expectPenError(() => parseArgv(argv, { servicesFile: '/nonexistent' }), argv);
    },
  },
  {
    name: 'parseServerSpec',
    one(g) {
      const spec = mutate(g, g.pick(['web1:80', '[::1]:80:10:20:3:1', '127.0.0.1', '/run/app.sock', 'a:1:2:3:4:5']));
      expectPenError(() => parseServerSpec(spec, 80, { servicesFile: '/nonexistent' }), spec);
    },
  },
  {
    name: 'dispatch (command arguments)',
    async one(g) {
      const ctx = makeContext({ listen: '127.0.0.1:8080', servers: [{ host: '127.0.0.2', port: 80, maxc: 0, hard: 0, weight: 0, prio: 0, acl: 0 }] });
      for (let i = 1 + g.int(4); i > 0; i--) {
        const line = commandLine(g);
        const reply = await dispatch(ctx, line, g.pick(['socket', 'option', 'file'] as const));
        assert.equal(typeof reply, 'string', `reply to ${JSON.stringify(line)}`);
        const checked = SettingsSchema.safeParse(ctx.settings());
        assert.ok(checked.success, `settings invalid after ${JSON.stringify(line)}`);
      }
    },
  },
  {
    name: 'config file (loadConfigFile)',
    async one(g) {
      const ctx = makeContext({ listen: '127.0.0.1:8080', configFile: '/etc/pen.cfg' });
      const lines: string[] = [];
      for (let i = g.int(8); i > 0; i--) lines.push(commandLine(g));
      const text = g.chance(0.2) ? mutate(g, lines.join('\n')) : lines.join(g.pick(['\n', '\r\n', '\n\n']));
      ctx.files.set('/etc/pen.cfg', text);
      ctx.files.set('/tmp/pen-fuzz.cfg', 'blacklist 3\n'); // for include
      const base = structuredClone(ctx.settings());
      const before = structuredClone(ctx.settings());
      const r = await loadConfigFile(ctx, '/etc/pen.cfg', base, { startup: g.chance(0.5) });
      const count = text.split('\n').length;
      for (const e of r.errors) assert.ok(e.line >= 0 && e.line <= count, `line ${e.line} of ${count}`);
      if (r.errors.some((e) => e.line > 0)) assert.deepEqual(ctx.settings(), before, 'a file with bad lines changed nothing');
      assert.ok(SettingsSchema.safeParse(ctx.settings()).success);
    },
  },
];

export interface FuzzResult {
  name: string;
  executions: number;
}

/** Runs each target for `iterations` executions or `seconds`, whichever is given; throws the
    first property violation with the seed and execution that found it. */
export async function runTargets(opts: { seed: number; iterations?: number; seconds?: number }): Promise<FuzzResult[]> {
  const out: FuzzResult[] = [];
  for (const t of targets) {
    const g = new Gen(prng(opts.seed));
    const until = opts.seconds ? performance.now() + opts.seconds * 1000 : Infinity;
    let n = 0;
    for (; opts.iterations === undefined ? performance.now() < until : n < opts.iterations; n++) {
      try {
        await t.one(g);
      } catch (e) {
        throw new Error(`fuzz target '${t.name}' (seed ${opts.seed}, execution ${n}): ${(e as Error).message}`);
      }
    }
    out.push({ name: t.name, executions: n });
  }
  return out;
}
