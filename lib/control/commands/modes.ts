// Selection modes (spec/selection.md §1): roundrobin, hash, stubborn, weight, prio, and `mode`.
import { command, type Command } from '../command.js';
import { none } from '../args.js';
import { flag } from './flag.js';

export const commands: Command[] = [
  ...flag('roundrobin', 'roundrobin', 'ignore the client table (no client tracking)'),
  ...flag('hash', 'hash', 'choose the first server by hashing the client address'),
  ...flag('stubborn', 'stubborn', 'never fail over to another server'),
  ...flag('weight', 'weight', 'choose the server with the least connections per weight'),
  ...flag('prio', 'prio', 'choose the available server with the lowest prio'),
  command({
    name: ['mode'], help: 'mode: show the selection flags', args: none,
    run: (ctx) => {
      const s = ctx.settings();
      const f = (on: boolean, word: string) => `${on ? '' : 'no '}${word}`;
      return `${f(s.hash, 'hash')} ${f(s.roundrobin, 'roundrobin')} ${f(s.stubborn, 'stubborn')} ` +
        `${f(s.weight, 'weight')} ${f(s.prio, 'prio')}\n`;
    },
  }),
];
