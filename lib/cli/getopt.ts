// POSIX getopt for the small tools (penlogd, mergelogs): clustered flags (-df), attached or
// separate arguments (-n5, -n 5), GNU permutation (options after operands), `--` ends the
// options. pen itself has its own parser (lib/config/argv.ts), which also runs commands.

export interface Parsed {
  /** Options in the order given: [letter, argument ('' for flags)]. */
  options: Array<[string, string]>;
  operands: string[];
}

/** `spec` is getopt's option string, e.g. "j:l:n:p:u:dfb". Throws Error with the message to show. */
export function getopt(argv: readonly string[], spec: string): Parsed {
  const takesArg = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    const hasArg = spec[i + 1] === ':';
    takesArg.set(spec[i]!, hasArg);
    if (hasArg) i++;
  }
  const out: Parsed = { options: [], operands: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.length < 2 || !a.startsWith('-')) {
      out.operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const letter = a[j]!;
      const arg = takesArg.get(letter);
      if (arg === undefined) throw new Error(`unknown option -${letter}`);
      if (!arg) {
        out.options.push([letter, '']);
        continue;
      }
      let value: string;
      if (j + 1 < a.length) value = a.slice(j + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new Error(`option -${letter} requires an argument`);
      out.options.push([letter, value]);
      break;
    }
  }
  return out;
}

/** A whole decimal number >= min, or throws naming `what`. */
export function number(what: string, text: string, min: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= 2 ** 31 - 1)) throw new Error(`${what} must be a whole number from ${min}, got "${text}"`);
  return n;
}
