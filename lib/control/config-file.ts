// Running a text of commands (the -F file, include FILE): one command per line, in order. An
// error reply is written to pen's stdout (ctx.out) as "FILE:LINE: reply"; other replies are
// dropped (Pen printed every one: a -F file of settings filled stdout with their values at
// start-up and on every HUP). A failing line does not stop the rest.
import type { ControlContext } from './context.js';
import type { Call } from './command.js';
import { accessNote } from '../errors.js';
import { commandError } from './reply.js';

/** include may nest this deep (Pen had no guard: a file including itself looped forever). */
export const MAX_INCLUDE_DEPTH = 16;

export interface LineError {
  file: string;
  /** 1-based line number. */
  line: number;
  /** The error reply, as printed. */
  reply: string;
}

/** Reads a command file through ctx; a failure becomes a PenError naming the file. */
export async function readCommandFile(ctx: ControlContext, file: string): Promise<string> {
  try {
    return await ctx.readFile(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw commandError(`can't read config file '${file}' (${why})${accessNote(e, ctx.settings().user)}`);
  }
}

/**
 * Runs every line of `text` (named `file` in errors) through call.execute, at call.depth + 1.
 * Error replies go to ctx.out, prefixed "FILE:LINE: ". Returns the lines whose reply was an error.
 */
export async function runCommandText(ctx: ControlContext, text: string, file: string,
  call: Call): Promise<LineError[]> {
  if (call.depth >= MAX_INCLUDE_DEPTH) {
    throw commandError(`'${file}' is nested more than ${MAX_INCLUDE_DEPTH} includes deep`);
  }
  const nested: Call = { ...call, depth: call.depth + 1 };
  const errors: LineError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const reply = await call.execute(ctx, lines[i]!, nested);
    if (!reply.error) continue; // a value echoed by a setting (`timeout 5` -> "5") is not news
    ctx.out(`${file}:${i + 1}: ${reply.text}`);
    errors.push({ file, line: i + 1, reply: reply.text });
  }
  return errors;
}
