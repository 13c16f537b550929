// Signals of a running pen (spec/cli.md "Signals"): TERM and INT shut down cleanly (Pen left
// INT unhandled; quirk 50), HUP re-reads configuration, USR1 reports statistics, USR2 aborts
// with a core dump as Pen does. Node's own defaults (USR1 = inspector) are replaced.
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log/debug.js';
import type { Runtime } from './runtime.js';

/** reload: re-reads the -F file and applies the differences (null without -F). */
export function installSignals(rt: Runtime, engine: Engine, logger: Logger, shutdown: () => void,
  reload: (() => Promise<{ errors: unknown[]; changed: string[] }>) | null): void {
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', () => {
    if (!reload) return logger.log(1, 'SIGHUP: no -F configuration file to re-read');
    void reload().then((r) => logger.log(r.errors.length ? 0 : 1,
      `SIGHUP: configuration re-read, ${r.changed.length} setting(s) changed` +
      (r.errors.length ? `, ${r.errors.length} error(s)` : '')));
  });
  process.on('SIGUSR1', () => {
    const st = engine.native.stats();
    const lines = [`connections ${st.active} active, ${st.pending} connecting, ${st.accepted} accepted, ${st.refused} refused`];
    rt.settings().servers.forEach((s, i) => {
      lines.push(`server ${i} ${s.host}:${s.port} conn ${st.conn[i]} sx ${st.sx[i]} rx ${st.rx[i]}`);
    });
    for (const l of lines) logger.log(0, l);
  });
  process.on('SIGUSR2', () => process.abort());
}
