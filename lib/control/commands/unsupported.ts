// THE list of Pen commands whose data-plane side pen does not have yet (DSR-related and a
// few odd ones). None is accepted silently:
//  - a form that would turn the feature on or set something replies
//    "pen: 'WORD' is not supported yet";
//  - a form that only states the "off" value pen already has (`no http`, `idlers 0`, ...)
//    is accepted, so files written by Pen or by `write` still load;
//  - a form that only shows a value prints pen's value (nothing configured), as Pen would.
// When a feature lands, move its entries to the group that implements it.
import type { Command } from '../command.js';
import { words } from '../args.js';
import { notSupported } from '../reply.js';

/**
 * An entry that shows `shown` without arguments, accepts exactly the arguments `off` silently
 * (with reply `offReply`), and refuses every other use.
 */
function later(word: string, help: string, opts: { shown?: string; off?: string[][]; offReply?: string } = {}): Command {
  return {
    name: [word], help: `${help} (not supported yet)`, args: words,
    run: (_ctx, args: string[]) => {
      if (args.length === 0 && opts.shown !== undefined) return opts.shown;
      if (opts.off?.some((o) => o.join(' ') === args.join(' '))) return opts.offReply ?? '';
      throw notSupported(word);
    },
  };
}

/** `word` (refused) and `no word` (accepted: the feature is off); `write` says `no word` if Pen did. */
function laterFlag(word: string, help: string, written = false): Command[] {
  return [
    { ...later(word, `${word}: ${help}`), ...(written ? { render: () => [`no ${word}`] } : {}) },
    later(`no ${word}`, `no ${word}: turn ${word} off`, { off: [[]] }),
  ];
}

export const commands: Command[] = [
  ...laterFlag('peek', 'look at client data before choosing a server'),
  later('dsr_ip', 'dsr_ip IP: the DSR address'),
  later('select', 'select: use select() for the event loop'),
];
