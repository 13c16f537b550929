// dispatch(): one command line in, the exact reply bytes out. Every way in uses it: the
// control socket, -O, the -F file and include (through config-file.ts), HUP reload.
//
// Contract: never throws and never rejects. Blank lines and lines whose first word starts with
// '#' reply nothing; an unknown first word replies Pen's
// "do_cmd: ignoring command starting with 'X'\n"; bad arguments and failing handlers reply one
// error line naming the command and what was wrong (reply.ts), and change nothing.
import type { Call, CommandTable } from './command.js';
import { usageOf } from './command.js';
import type { ControlContext, Origin } from './context.js';
import { describeIssue } from './args.js';
import { commandError, errorReply, fail, ok, unknownCommand, type Reply } from './reply.js';
import { commandTable } from './table.js';
import { tokenize } from './tokenize.js';

/**
 * Runs one line without taking the context's lock (for include, whose caller holds it).
 * `call` says where the line came from and which table to use.
 */
export async function execute(ctx: ControlContext, line: string, call: Call): Promise<Reply> {
  const words = tokenize(line);
  const first = words[0];
  if (first === undefined || first.startsWith('#')) return ok();
  let key = first;
  let args = words.slice(1);
  if (first === 'no' && args.length > 0) {
    key = `no ${args[0]}`;
    args = args.slice(1);
  }
  const cmd = call.table.byName.get(key);
  if (!cmd) return key === first ? unknownCommand(first) : fail(`pen: unknown command '${key}'\n`);

  const name = cmd.name[0]!;
  const parsed = cmd.args.safeParse(args);
  if (!parsed.success) {
    return errorReply(name, commandError(`${describeIssue(parsed.error, args)}; usage: ${usageOf(cmd)}`));
  }
  try {
    const result = await cmd.run(ctx, parsed.data, call);
    return typeof result === 'string' ? ok(result) : result ?? ok();
  } catch (e) {
    return errorReply(name, e);
  }
}

const queues = new WeakMap<object, Promise<unknown>>();

/**
 * Runs `fn` when every earlier exclusive() on the same context has finished, so that commands
 * from the socket, HUP and start-up never interleave their reads and updates.
 */
export function exclusive<T>(ctx: ControlContext, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(ctx) ?? Promise.resolve();
  const run = before.then(fn);
  queues.set(ctx, run.catch(() => undefined));
  return run;
}

/** A Call for a line given directly (not from inside include). */
export function topCall(origin: Origin, table: CommandTable = commandTable()): Call {
  return { origin, depth: 0, table, execute };
}

/** Runs one command line under the context's lock; returns the reply and whether it is an error. */
export function dispatchReply(ctx: ControlContext, line: string, origin: Origin,
  table: CommandTable = commandTable()): Promise<Reply> {
  return exclusive(ctx, () => execute(ctx, line, topCall(origin, table)));
}

/** Runs one command line under the context's lock; returns the exact reply bytes. */
export async function dispatch(ctx: ControlContext, line: string, origin: Origin,
  table: CommandTable = commandTable()): Promise<string> {
  return (await dispatchReply(ctx, line, origin, table)).text;
}
