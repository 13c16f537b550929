// Logs and statistics: the request log (log), the HTML statistics file (web_stats, status)
// and the form of debug dumps (ascii). spec/penctl.md §2-3, spec/logging-tools.md.
import { z } from '../../config/zod.js';
import { gatherStats, renderWebStats } from '../../log/webstats.js';
import { parseLogDestination } from '../../log/access.js';
import { command, type Command } from '../command.js';
import { none, word } from '../args.js';
import { fail } from '../reply.js';
import { flag } from './flag.js';

/** status reads back the page it has just written: bounded, far above any real page. */
const WEBSTATS_MAX_BYTES = 16 << 20;

const shown = (value: string | null): string => (value === null ? '' : `${value}\n`);

export const commands: Command[] = [
  command({
    name: ['log'], help: 'log [FILE|HOST:PORT]: show, or log requests to FILE or to penlogd at HOST:PORT (UDP)',
    args: z.tuple([word.optional()]),
    run: async (ctx, [dest]) => {
      if (dest !== undefined) {
        parseLogDestination(dest); // a malformed HOST:PORT is refused before anything is opened
        await ctx.update((d) => { d.log = dest; }); // opens it; the old log stays on failure
      }
      return shown(ctx.settings().log);
    },
    render: (s) => [s.log === null ? 'no log' : `log ${s.log}`],
  }),
  command({
    name: ['no log'], help: 'no log: stop logging requests (to a file or to penlogd)', args: none,
    run: async (ctx) => { await ctx.update((d) => { d.log = null; }); },
  }),
  command({
    name: ['web_stats'], help: 'web_stats [FILE]: show, or write the HTML statistics page to FILE on USR1 and status',
    args: z.tuple([word.optional()]),
    run: async (ctx, [file]) => {
      if (file !== undefined) await ctx.update((d) => { d.webStats = file; });
      return shown(ctx.settings().webStats);
    },
    render: (s) => [s.webStats === null ? 'no web_stats' : `web_stats ${s.webStats}`],
  }),
  command({
    name: ['no web_stats'], help: 'no web_stats: stop writing the HTML statistics page', args: none,
    run: async (ctx) => { await ctx.update((d) => { d.webStats = null; }); },
  }),
  command({
    name: ['status'], help: 'status: write the HTML statistics page to the web_stats file and show it',
    args: none,
    run: async (ctx) => {
      const file = ctx.settings().webStats;
      if (file === null) return fail('Unable to create webstats\n');
      try {
        await ctx.writeFile(file, renderWebStats(gatherStats(ctx)));
      } catch {
        return fail('Unable to create webstats\n');
      }
      try {
        return await ctx.readFile(file, WEBSTATS_MAX_BYTES);
      } catch {
        return fail("Can't read webstats\n");
      }
    },
  }),
  ...flag('ascii', 'ascii', 'show debug dumps (debug level 3) as text instead of hex'),
];
