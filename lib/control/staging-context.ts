// A ControlContext that collects instead of acting: reload.ts runs a config file against it to
// learn what the settings WOULD be, then applies only the differences to the live context.
import { z } from '../config/zod.js';
import { SettingsSchema, type Settings } from '../config/settings.js';
import type { ControlContext, ControlEngine, GeoIp } from './context.js';
import { commandError } from './reply.js';

export class StagingContext implements ControlContext {
  private current: Settings;
  /** Runtime actions (blacklist, close) to perform once the settings have been applied. */
  readonly actions: Array<() => void> = [];
  readonly engine: ControlEngine;

  /** `start` is copied; `live` serves reads of runtime state, files, stdout, pid and exit. */
  constructor(private readonly live: ControlContext, start: Readonly<Settings>) {
    this.current = structuredClone(start) as Settings;
    this.engine = {
      stats: () => live.engine.stats(),
      connections: () => live.engine.connections(),
      clients: (since) => live.engine.clients(since),
      blacklist: (server, seconds) => { this.actions.push(() => live.engine.blacklist(server, seconds)); },
      closeConnection: (id) => { this.actions.push(() => live.engine.closeConnection(id)); return true; },
      countryOf: (ip) => live.engine.countryOf(ip),
    };
  }

  get geoip(): GeoIp { return this.live.geoip; }

  get pid(): number { return this.live.pid; }

  settings(): Readonly<Settings> { return this.current; }

  /** Validates like the live context, but resolves no names and pushes nothing. */
  async update(mutate: (draft: Settings) => void): Promise<void> {
    const draft = structuredClone(this.current) as Settings;
    mutate(draft);
    try {
      this.current = SettingsSchema.parse(draft);
    } catch (e) {
      if (!(e instanceof z.ZodError)) throw e;
      const issue = e.issues[0]!;
      throw commandError(`invalid setting ${issue.path.join('.')}: ${issue.message}`);
    }
  }

  /** The listen command has already checked the address; the diff re-opens if it changed. */
  async reopenListener(): Promise<void> {}

  out(text: string): void { this.live.out(text); }
  exit(): void { this.live.exit(); }
  readFile(path: string, maxBytes?: number): Promise<string> { return this.live.readFile(path, maxBytes); }
  writeFile(path: string, text: string): Promise<void> { return this.live.writeFile(path, text); }
}
