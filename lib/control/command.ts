// The shape of one entry of the command table (STYLE.md "A penctl command is one entry").
import type { z } from 'zod';
import type { Settings } from '../config/settings.js';
import type { ControlContext, Origin } from './context.js';
import type { Reply } from './reply.js';

/** What a handler may return: a Reply, the text of a successful reply, or nothing (''). */
export type Result = Reply | string | void;

/** Runs one command line; used by handlers that run further lines (include). */
export type Executor = (ctx: ControlContext, line: string, call: Call) => Promise<Reply>;

/** How a command is being run. */
export interface Call {
  origin: Origin;
  /** Nesting of include; 0 for a line given directly. */
  depth: number;
  table: CommandTable;
  execute: Executor;
}

export interface Command {
  /**
   * The words this entry answers to (aliases allowed). A negative form is its own entry whose
   * name is 'no WORD'; the dispatcher joins 'no' and the next word before looking up.
   */
  name: readonly string[];
  /** 'USAGE: what it does' on one line; help and usage errors show it. */
  help: string;
  /** Schema of the words after the name; its output is what run() receives. */
  args: z.ZodType;
  /** Does the work. Throws PenError (commandError(), notSupported()) to refuse. */
  run(ctx: ControlContext, args: any, call: Call): Result | Promise<Result>;
  /** The config lines that recreate this entry's part of the settings (for `write`). */
  render?(settings: Readonly<Settings>): string[];
}

export interface CommandTable {
  /** Every name and alias -> its entry. */
  readonly byName: ReadonlyMap<string, Command>;
  /** Entries in registration order (each once). */
  readonly commands: readonly Command[];
}

/** Declares an entry with run()'s argument type inferred from the schema. */
export function command<S extends z.ZodType>(def: Omit<Command, 'args' | 'run'> & {
  args: S;
  run(ctx: ControlContext, args: z.output<S>, call: Call): Result | Promise<Result>;
}): Command {
  return def;
}

/** The usage part of a help line ('timeout [N]' of 'timeout [N]: ...'). */
export function usageOf(cmd: Command): string {
  const colon = cmd.help.indexOf(': ');
  return colon < 0 ? cmd.help : cmd.help.slice(0, colon);
}

/** The text of `help`: every entry's help line, in table order. */
export function helpText(table: CommandTable): string {
  return table.commands.map((c) => `${c.help}\n`).join('');
}
