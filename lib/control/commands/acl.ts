// ACL lists, where they apply, and the GeoIP database their country entries are matched
// against (spec/selection.md §8; model in lib/config/acl.ts, file choice in lib/config/geoip.ts).
//
// Country entries are accepted only when they can match: the addon was built with
// libmaxminddb and there is a database (geoip_db FILE, or a default one). The data plane
// opens the file when the settings are applied; a file it cannot open is refused there
// (PEN_ERR_GEOIP, naming the file and libmaxminddb's reason) and the previous database stays.
import path from 'node:path';
import { z } from '../../config/zod.js';
import { parseAclEntry, renderAclEntry, ACL_LISTS } from '../../config/acl.js';
import { GEOIP_UNSUPPORTED, geoipHowTo, listsWithCountries } from '../../config/geoip.js';
import { command, type Command } from '../command.js';
import type { ControlContext } from '../context.js';
import { int, none, word } from '../args.js';
import { commandError } from '../reply.js';
import { numeric } from './numeric.js';

const list = int('the list number', 0, ACL_LISTS - 1);

/** Throws unless this build has GeoIP support. */
function requireSupport(ctx: ControlContext): void {
  if (!ctx.geoip.supported) throw commandError(GEOIP_UNSUPPORTED);
}

export const commands: Command[] = [
  command({
    name: ['acl'],
    help: 'acl N permit|deny A.B.C.D [MASK] | IPV6[/LEN] | country CC: append an entry to list N (0-9)',
    args: z.tuple([list], word),
    run: async (ctx, [n, ...rest]) => {
      const entry = parseAclEntry(rest);
      if ('reason' in entry) throw commandError(entry.reason);
      if (entry.kind === 'country') {
        requireSupport(ctx);
        if (ctx.geoip.database(ctx.settings().geoipDb) === null) {
          throw commandError(`country entries need a GeoIP database: ${geoipHowTo()}`);
        }
      }
      await ctx.update((d) => { d.acls[n]!.push(entry); });
    },
    render: (s) => s.acls.flatMap((entries, n) => [`no acl ${n}`, ...entries.map((e) => renderAclEntry(n, e))]),
  }),
  command({
    name: ['no acl'], help: 'no acl N: empty list N (an empty list permits everyone)',
    args: z.tuple([list]),
    run: async (ctx, [n]) => { await ctx.update((d) => { d.acls[n] = []; }); },
  }),
  numeric({ word: 'client_acl', key: 'clientAcl', min: 0, max: ACL_LISTS - 1,
    help: 'client_acl [N]: show or set the list clients must pass (denied: abuse server or closed)' }),
  numeric({ word: 'control_acl', key: 'controlAcl', min: 0, max: ACL_LISTS - 1,
    help: 'control_acl [N]: show or set the list control connections must pass' }),
  command({
    name: ['geoip_db'],
    help: 'geoip_db [FILE]: show, or match country entries against the MaxMind DB in FILE (re-read now)',
    args: z.tuple([word.optional()]),
    run: async (ctx, [file]) => {
      if (file === undefined) {
        const db = ctx.geoip.supported ? ctx.geoip.database(ctx.settings().geoipDb) : null;
        return db === null ? '' : `${db}\n`;
      }
      requireSupport(ctx);
      await ctx.update((d) => { d.geoipDb = path.resolve(file); });
    },
    render: (s) => (s.geoipDb === null ? [] : [`geoip_db ${s.geoipDb}`]),
  }),
  command({
    name: ['no geoip_db'], help: 'no geoip_db: look for the database in the default places again',
    args: none,
    run: async (ctx) => {
      const lists = listsWithCountries(ctx.settings().acls);
      if (lists.length > 0 && ctx.geoip.database(null) === null) {
        const which = lists.length > 1 ? `lists ${lists.join(', ')} have` : `list ${lists[0]} has`;
        throw commandError(`${which} country entries and there is no default database; ` +
          `empty ${lists.length > 1 ? 'them' : 'it'} first (no acl N)`);
      }
      await ctx.update((d) => { d.geoipDb = null; });
    },
  }),
];
