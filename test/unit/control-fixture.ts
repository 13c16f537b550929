// A ControlContext for unit tests: settings in memory, a FakeEngine, files in a Map, stdout in
// an array. Hosts ending in '.invalid' fail to "resolve" and listen addresses containing
// 'busy' fail to bind, so tests can exercise the all-or-nothing paths.
import { SettingsSchema, defaultSettings, type Settings } from '../../lib/config/settings.js';
import { PenError } from '../../lib/errors.js';
import { FakeEngine } from '../../lib/engine/fake-engine.js';
import type { ControlContext, GeoIp, Origin } from '../../lib/control/context.js';
import { dispatch } from '../../lib/control/dispatch.js';

export interface TestContext extends ControlContext {
  readonly engine: FakeEngine;
  /** Everything written to "stdout". */
  readonly output: string[];
  readonly files: Map<string, string>;
  /** Specs given to reopenListener, successful or not. */
  readonly listens: string[];
  exits: number;
  /** Successful update() calls (each would push one snapshot). */
  updates: number;
  /** A GeoIP build whose only database is what geoip_db names; tests may replace it. */
  geoip: GeoIp;
}

export function makeContext(init: Partial<Settings> = {}): TestContext {
  let current: Settings = SettingsSchema.parse({ ...defaultSettings(), ...structuredClone(init) });
  const ctx: TestContext = {
    engine: new FakeEngine(),
    output: [],
    files: new Map(),
    listens: [],
    exits: 0,
    updates: 0,
    geoip: { supported: true, database: (setting) => setting },
    pid: 4242,
    settings: () => current,
    async update(mutate) {
      const draft = structuredClone(current);
      mutate(draft);
      const next = SettingsSchema.parse(draft);
      for (const s of next.servers) {
        if (s.host.endsWith('.invalid')) throw new PenError('PEN_ERR_RESOLVE', { host: s.host });
      }
      current = next;
      ctx.updates++;
    },
    async reopenListener(spec) {
      ctx.listens.push(spec);
      if (spec.includes('busy')) throw new PenError('PEN_ERR_BIND', { address: spec, reason: 'EADDRINUSE' });
    },
    out: (text) => { ctx.output.push(text); },
    exit: () => { ctx.exits++; },
    async readFile(path) {
      const text = ctx.files.get(path);
      if (text === undefined) {
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      }
      return text;
    },
    async writeFile(path, text) {
      if (path.startsWith('/readonly/')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      ctx.files.set(path, text);
    },
  };
  return ctx;
}

/** dispatch() with the socket as origin unless told otherwise. */
export function run(ctx: ControlContext, line: string, origin: Origin = 'socket'): Promise<string> {
  return dispatch(ctx, line, origin);
}
