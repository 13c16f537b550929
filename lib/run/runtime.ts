// The running pen process as the command table sees it (ControlContext): the current
// Settings, the data plane they are pushed to, and the process-level actions.
import type { ControlContext, ControlEngine, GeoIp } from '../control/context.js';
import { geoipDatabase } from '../config/geoip.js';
import { parseListenSpec } from '../config/listen-spec.js';
import { SettingsSchema, type Settings } from '../config/settings.js';
import type { Engine } from '../engine/engine.js';
import { PenError } from '../errors.js';
import type { AccessLogStats } from '../log/access.js';
import type { LogOutputs } from '../log/outputs.js';
import { readRegularFile, writeRegularFile } from './regular-files.js';

export class Runtime implements ControlContext {
  /** True once start-up has pushed the first snapshot and opened the listener. */
  running = false;
  /** Set when the switch from root (-u user) took away the capability transparent needs. */
  transparentLost: { user: string; capability: string } | null = null;
  readonly pid = process.pid;
  private current: Settings;

  constructor(
    initial: Settings,
    private readonly eng: Engine,
    private readonly onExit: () => void,
    /** The request log and the logger's level, applied with every update once running. */
    private readonly logs: LogOutputs | null = null,
  ) {
    this.current = initial;
  }

  get engine(): ControlEngine {
    return this.eng.native;
  }

  get geoip(): GeoIp {
    return { supported: this.eng.geoip, database: (setting) => geoipDatabase(setting) };
  }

  settings(): Readonly<Settings> {
    return this.current;
  }

  async update(mutate: (draft: Settings) => void): Promise<void> {
    const draft = structuredClone(this.current);
    mutate(draft);
    const checked = SettingsSchema.safeParse(draft);
    if (!checked.success) {
      const i = checked.error.issues[0];
      throw new PenError('PEN_ERR_CONFIG', { detail: `${i.path.join('.') || 'settings'}: ${i.message}` });
    }
    if (this.running) {
      await this.logs?.apply(checked.data); // a log that cannot be opened changes nothing
      try {
        await this.eng.apply(checked.data);
      } catch (e) {
        await this.logs?.apply(this.current).catch(() => undefined);
        throw e;
      }
    }
    this.current = checked.data;
  }

  transparentRefusal(): string | null {
    const l = this.transparentLost;
    if (l === null) return null;
    const what = l.capability === 'root' ? 'root privileges' : l.capability;
    return `the data plane lacks ${what}, given up when pen switched to user '${l.user}' (-u); ` +
      'start pen with transparent on to keep it (then "no transparent" and "transparent" switch it at run time)';
  }

  accessLogStats(): AccessLogStats | null {
    return this.logs?.access.stats() ?? null;
  }

  /** SIGHUP: reopen a file request log (rotation). */
  reopenLogs(): void {
    this.logs?.access.reopen();
  }

  async reopenListener(spec: string): Promise<void> {
    if (!this.running) {
      parseListenSpec(spec);
      return;
    }
    await this.eng.listen(spec, this.current);
  }

  out(text: string): void {
    process.stdout.write(text);
  }

  exit(): void {
    setImmediate(this.onExit);
  }

  readFile(path: string, maxBytes?: number): Promise<string> {
    return readRegularFile(path, maxBytes);
  }

  writeFile(path: string, text: string): Promise<void> {
    return writeRegularFile(path, text);
  }
}
