// Loading the -F file at start-up and again on SIGHUP, as a diff (quirk 42).
//
// The file is run against a StagingContext that starts from `base` (the settings start-up had
// before it read the file: command line and -O). The result is what a fresh start would give;
// only the settings that differ from the live ones are applied, in ONE update (one snapshot).
// So a reload does not append ACL entries twice, removes servers that left the file, keeps the
// listener when `listen` did not change, and reverts runtime changes that were not saved with
// `write`. Runtime actions in the file (`server N blacklist T`) run after the update.
// A file with a failing line applies nothing: start-up stops, a HUP keeps the running
// configuration (describeErrors() says why, naming file:line).
import { isDeepStrictEqual } from 'node:util';
import { SettingsSchema, type Settings } from '../config/settings.js';
import type { CommandTable } from './command.js';
import type { ControlContext } from './context.js';
import { readCommandFile, runCommandText, type LineError } from './config-file.js';
import { exclusive, topCall } from './dispatch.js';
import { errorReply, fail, type Reply } from './reply.js';
import { StagingContext } from './staging-context.js';
import { commandTable } from './table.js';

type Key = keyof Settings;

/** Settings a running pen cannot change: a reload that changes them says "restart". */
export const STARTUP_ONLY: ReadonlySet<Key> = new Set<Key>([
  'eventBackend', 'workers', 'foreground', 'pidfile', 'user', 'chroot', 'exitEnabled', 'control',
  'configFile', 'listenQueue',
]);

/** Tables that only grow (clients_max, conn_max): a reload keeps the larger of the two. */
const GROW_ONLY = ['clientsMax', 'connMax'] as const;

export interface LoadOptions {
  /** True for the read at start-up: start-up-only settings may change too. */
  startup: boolean;
  table?: CommandTable;
}

export interface LoadResult {
  /** Lines that replied an error, and (line 0) errors applying the result. Already printed. */
  errors: LineError[];
  /** The settings keys that were changed. */
  changed: Key[];
}

/**
 * Runs `file` from `base` and applies the differences to ctx (see the top of this file).
 * Every reply, including errors, goes to ctx.out as Pen's did. Never throws.
 */
export async function loadConfigFile(ctx: ControlContext, file: string, base: Readonly<Settings>,
  opts: LoadOptions): Promise<LoadResult> {
  const staging = new StagingContext(ctx, base);
  const lineErrors: LineError[] = [];
  try {
    const text = await readCommandFile(ctx, file);
    lineErrors.push(...await runCommandText(staging, text, file, topCall('file', opts.table ?? commandTable())));
  } catch (e) {
    return { errors: [report(ctx, file, fail(`pen: ${(e as Error).message}\n`))], changed: [] };
  }
  if (lineErrors.length > 0) return { errors: lineErrors, changed: [] };
  const { changed, failures } = await exclusive(ctx, () => applyDifferences(ctx, staging, opts.startup));
  return { errors: [...lineErrors, ...failures.map((r) => report(ctx, file, r))], changed };
}

/** "FILE:LINE: reply" for the first errors (line 0: "FILE: reply"), for one log or exit line. */
export function describeErrors(errors: readonly LineError[]): string {
  const shown = errors.slice(0, 3).map((e) =>
    `${e.file}${e.line > 0 ? `:${e.line}` : ''}: ${e.reply.trim().replace(/^pen: /, '')}`);
  if (errors.length > shown.length) shown.push(`and ${errors.length - shown.length} more`);
  return shown.join('; ');
}

function report(ctx: ControlContext, file: string, reply: Reply): LineError {
  ctx.out(reply.text);
  return { file, line: 0, reply: reply.text };
}

async function applyDifferences(ctx: ControlContext, staging: StagingContext, startup: boolean):
  Promise<{ changed: Key[]; failures: Reply[] }> {
  const live = ctx.settings();
  const fresh = structuredClone(staging.settings()) as Settings;
  for (const k of GROW_ONLY) fresh[k] = Math.max(live[k], fresh[k]);
  const differing = (Object.keys(SettingsSchema.shape) as Key[])
    .filter((k) => !isDeepStrictEqual(live[k], fresh[k]));

  const failures: Reply[] = [];
  const apply = differing.filter((k) => {
    if (k === 'listen') return false; // below, after the rest succeeded
    if (startup || !STARTUP_ONLY.has(k)) return true;
    failures.push(fail(`pen: reload: ${k} can only change at start-up; restart pen to apply it\n`));
    return false;
  });
  const changed: Key[] = [];
  if (apply.length > 0) {
    try {
      await ctx.update((d) => {
        for (const k of apply) (d as Record<Key, unknown>)[k] = fresh[k];
      });
      changed.push(...apply);
    } catch (e) {
      return { changed, failures: [...failures, errorReply('reload', e)] };
    }
  }
  if (differing.includes('listen') && fresh.listen !== null) {
    try {
      await ctx.reopenListener(fresh.listen);
      await ctx.update((d) => { d.listen = fresh.listen; });
      changed.push('listen');
    } catch (e) {
      failures.push(errorReply('listen', e));
    }
  }
  for (const action of staging.actions) {
    try {
      action();
    } catch (e) {
      failures.push(errorReply('reload', e));
    }
  }
  return { changed, failures };
}
