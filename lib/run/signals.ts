// Signals of a running pen (spec/cli.md "Signals"): TERM and INT shut down cleanly (Pen left
// INT unhandled; quirk 50), HUP reopens a file request log and re-reads configuration, USR1
// reports statistics (the -w HTML page, else the text report through the debug channel),
// USR2 aborts with a core dump as Pen does. Node's own defaults (USR1 = inspector) are replaced.
import fs from 'node:fs';

import type { LineError } from '../control/config-file.js';
import { exclusive } from '../control/dispatch.js';
import { describeErrors } from '../control/reload.js';
import { accessNote } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { NOTICE, type Logger } from '../log/debug.js';
import { renderTextStats } from '../log/textstats.js';
import { gatherStats, renderWebStats } from '../log/webstats.js';
import type { Runtime } from './runtime.js';

/** reload: re-reads the -F file and applies the differences (null without -F). */
export function installSignals(rt: Runtime, engine: Engine, logger: Logger, shutdown: () => void,
  reload: (() => Promise<{ errors: LineError[]; changed: string[] }>) | null): void {
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // HUP hands the data plane the current settings again with every server name resolved
  // afresh (as Pen re-resolves on a reload); it also rebuilds its TLS contexts when a
  // certificate, key, CA, OCSP or SNI file changed (native/tls/tls.h), and reopens the GeoIP
  // database when its file changed (native/geo/db.h). On failure the running data plane stays.
  const refreshFiles = (): void => {
    const s = rt.settings();
    void exclusive(rt, () => engine.apply(rt.settings(), { resolveNames: true }))
      .catch((e: unknown) => logger.log(0, `SIGHUP: names, certificates and GeoIP database not refreshed (the running configuration stays): ${(e as Error).message}` +
        (s.user ? ` (pen runs as user '${s.user}' now, -u: the files are read with that user's rights; ` +
          'a key readable only by root cannot be reloaded, restart pen to load it)' : '')));
  };
  process.on('SIGHUP', () => {
    rt.reopenLogs();
    if (!reload) {
      refreshFiles();
      return logger.log(1, 'SIGHUP: no -F configuration file to re-read');
    }
    void reload().then((r) => {
      refreshFiles();
      if (r.errors.length > 0 && r.changed.length === 0) {
        logger.log(0, `SIGHUP: configuration not re-read, the running one is kept: ${describeErrors(r.errors)}`);
        return;
      }
      logger.log(r.errors.length ? 0 : 1,
        `SIGHUP: configuration re-read, ${r.changed.length} setting(s) changed` +
        (r.errors.length ? `; not applied: ${describeErrors(r.errors)}` : ''));
    });
  });
  process.on('SIGUSR1', () => {
    const view = gatherStats(rt);
    const file = rt.settings().webStats;
    if (file === null) {
      for (const block of renderTextStats(view)) logger.log(NOTICE, block);
      return;
    }
    try {
      fs.writeFileSync(file, renderWebStats(view));
    } catch (err) {
      logger.log(0, `SIGUSR1: cannot write the statistics page ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` +
        accessNote(err, rt.settings().user));
    }
  });
  process.on('SIGUSR2', () => process.abort());
}
