// ACL lists and where they apply (spec/selection.md §8; model in lib/config/acl.ts).
import { z } from '../../config/zod.js';
import { parseAclEntry, renderAclEntry, ACL_LISTS } from '../../config/acl.js';
import { command, type Command } from '../command.js';
import { int, word } from '../args.js';
import { commandError } from '../reply.js';
import { numeric } from './numeric.js';

const list = int('the list number', 0, ACL_LISTS - 1);

export const commands: Command[] = [
  command({
    name: ['acl'],
    help: 'acl N permit|deny A.B.C.D [MASK] | IPV6[/LEN] | country CC: append an entry to list N (0-9)',
    args: z.tuple([list], word),
    run: async (ctx, [n, ...rest]) => {
      const entry = parseAclEntry(rest);
      if ('reason' in entry) throw commandError(entry.reason);
      // The model keeps country entries, but the data plane has no GeoIP database yet: refuse
      // them rather than accept a rule that would never match.
      if (entry.kind === 'country') throw commandError('country entries are not supported yet (no GeoIP database)');
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
];
