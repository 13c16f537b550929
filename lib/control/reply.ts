// Replies: the exact bytes a command sends back (to the control client, or to stdout for
// -O / -F / include), plus whether they report an error.
//
// Contract: a successful setter replies nothing (''), as Pen. Every error reply is one line
// ending in '\n'. pen's own errors start with 'pen: '; Pen's historical error texts are kept
// byte for byte where spec/penctl.md pins them and are listed in PEN_ERROR_REPLIES, so that
// penctl (and scripts) can tell an error from a value.
import { PenError, isPenError } from '../errors.js';

export interface Reply {
  text: string;
  error: boolean;
}

export const ok = (text = ''): Reply => ({ text, error: false });
export const fail = (text: string): Reply => ({ text, error: true });

/** Pen's reply to an unknown command word. */
export const unknownCommand = (word: string): Reply =>
  fail(`do_cmd: ignoring command starting with '${word}'\n`);

/** Error replies Pen itself sends (spec/penctl.md §2); everything else pen adds starts 'pen: '. */
const PEN_ERROR_REPLIES: readonly RegExp[] = [
  /^do_cmd: ignoring /,
  /^Exit is not enabled; restart with -X flag\n/,
  /^unable to set source address to '/,
  /^Connection -?\d+ out of range\n/,
  /^Unable to create webstats\n/,
  /^Can't read webstats\n/,
];

/** Whether reply text (as received by a client) is an error reply. */
export function isErrorReply(text: string): boolean {
  return text.startsWith('pen: ') || PEN_ERROR_REPLIES.some((re) => re.test(text));
}

/**
 * An error raised by a handler for a bad argument or a refused request; `detail` should say
 * what was wrong and, where it helps, what is expected. The dispatcher prefixes the command.
 */
export function commandError(detail: string): PenError {
  return new PenError('PEN_ERR_USAGE', { detail });
}

/** A feature whose data-plane side does not exist yet; one wording for all of them. */
export function notSupported(what: string): PenError {
  return new PenError('PEN_ERR_UNSUPPORTED', { detail: `'${what}' is not supported yet` });
}

/** Error codes whose message is a bare detail: the reply names the command in front of it. */
const BARE_DETAIL = new Set(['PEN_ERR_USAGE', 'PEN_ERR_CONFIG', 'PEN_ERR_GEOIP']);

/**
 * The error reply for something thrown while running `command`. PenError messages are shown
 * without the command-line hint, after the command name when they are a bare detail; anything
 * else is a bug and says so, but still only ends this one command.
 */
export function errorReply(command: string, e: unknown): Reply {
  if (isPenError(e)) {
    const msg = BARE_DETAIL.has(e.code) ? `${command}: ${e.message}` : e.message;
    return fail(`pen: ${oneLine(msg)}\n`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return fail(`pen: ${command}: internal error: ${oneLine(msg)}\n`);
}

function oneLine(text: string): string {
  return text.replace(/^pen: /, '').replace(/\s*\n\s*/g, '; ');
}
