// --help and --version, answered the same way by every bin (pen has its own in argv.ts).
import { VERSION } from '../run/version.js';

/**
 * If argv (before any `--`) holds --help or --version, returns the text to write to stdout
 * (the usage text, or "PROGRAM VERSION\n"); the program then exits 0. Otherwise null.
 */
export function standardReply(argv: readonly string[], program: string, usage: string): string | null {
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--help') return usage;
    if (a === '--version') return `${program} ${VERSION}\n`;
  }
  return null;
}
