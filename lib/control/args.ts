// Argument schemas for command entries: each takes one word (a string) and yields a value, or
// an issue whose message says what was expected and what came. Pen used atoi (garbage = 0);
// pen refuses garbage instead.
import { z } from '../config/zod.js';
import type { z as zt } from 'zod';
import { commandError } from './reply.js';

export const INT_MAX = 2 ** 31 - 1;

/**
 * `text` as a whole decimal number within min..max; otherwise throws a commandError naming
 * `what`. Used directly by handlers that parse key/value words (server, acl).
 */
export function wholeNumber(text: string, what: string, min: number, max = INT_MAX): number {
  const n = /^[-+]?\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw commandError(`${what} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/** Schema: one word -> whole number in min..max (message names `what`). */
export function int(what: string, min: number, max = INT_MAX) {
  return z.string().transform((s, c) => {
    try {
      return wholeNumber(s, what, min, max);
    } catch (e) {
      c.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });
}

/** Schema: one word out of `choices`. */
export function oneOf<const T extends readonly string[]>(what: string, choices: T) {
  return z.string().transform((s, c) => {
    if ((choices as readonly string[]).includes(s)) return s as T[number];
    c.addIssue({ code: 'custom', message: `${what} must be one of ${choices.join(', ')}, got "${s}"` });
    return z.NEVER;
  });
}

/** Schema: any one word. */
export const word = z.string();

/** Schema: no arguments. */
export const none = z.tuple([]);

/** Schema: every remaining word (handlers that parse key/value lists themselves). */
export const words = z.array(z.string());

/**
 * One line saying why `tokens` did not fit a schema: the first issue, phrased for an operator.
 * The dispatcher adds the command name and its usage.
 */
export function describeIssue(error: zt.ZodError, tokens: readonly string[]): string {
  const issue = error.issues[0];
  if (!issue) return 'bad arguments';
  const at = issue.path[0];
  if (issue.code === 'too_big' && issue.path.length === 0) return 'too many arguments';
  if (issue.code === 'too_small' && issue.path.length === 0) return 'missing argument';
  if (typeof at === 'number' && at >= tokens.length) return 'missing argument';
  if (issue.code === 'custom') return issue.message;
  return `bad argument "${typeof at === 'number' ? tokens[at] : ''}"`;
}
