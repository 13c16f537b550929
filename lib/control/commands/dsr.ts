// Direct Server Return and tarpit (native/dsr/, spec/dsr-tarpit-transparent.md): `dsr_if IF`
// makes the listen address a VIP that pen serves on IF at layer 2 (no listening socket);
// `tarpit_acl N` names the ACL of unused addresses the DSR plane impersonates (ARP replies and
// SYN-ACKs). An empty tarpit list is refused: Pen's "empty = permit everything" would answer for
// every address on the segment (quirk 33).
import { z } from '../../config/zod.js';
import { command, type Command } from '../command.js';
import { int, word } from '../args.js';
import { commandError } from '../reply.js';

/** Schema: an interface name as the kernel accepts one (1-15 bytes, no '/', ':' or space). */
const ifName = word.refine((s) => /^[^/:\s]{1,15}$/.test(s), { message: 'expected an interface name (at most 15 characters, no "/", ":" or spaces)' });

export const commands: Command[] = [
  command({
    name: ['dsr_if'],
    help: 'dsr_if [IF]: show or set the interface for Direct Server Return (start-up only: -O or the -F file)',
    args: z.tuple([ifName.optional()]),
    run: async (ctx, [name], call) => {
      if (name === undefined) return ctx.settings().dsrIf === null ? '' : `${ctx.settings().dsrIf}\n`;
      if (name === ctx.settings().dsrIf) return;
      if (call.origin === 'socket') throw commandError('dsr_if is set at start-up (-O or the -F file); restart pen to change it');
      await ctx.update((d) => { d.dsrIf = name; });
    },
    render: (s) => (s.dsrIf === null ? [] : [`dsr_if ${s.dsrIf}`]),
  }),
  command({
    name: ['tarpit_acl'],
    help: 'tarpit_acl [N]: show or set the ACL of addresses the DSR plane impersonates (-1 = off)',
    args: z.tuple([int('the ACL number', -1, 9).optional()]),
    run: async (ctx, [n]) => {
      if (n === undefined) return `tarpit_acl = ${ctx.settings().tarpitAcl}\n`;
      if (n >= 0 && ctx.settings().acls[n]!.length === 0) {
        throw commandError(`ACL ${n} is empty: as a tarpit list it would answer for every address on the segment; fill it first (acl ${n} permit ADDR)`);
      }
      await ctx.update((d) => { d.tarpitAcl = n; });
    },
    render: (s) => (s.tarpitAcl === -1 ? [] : [`tarpit_acl ${s.tarpitAcl}`]),
  }),
];
