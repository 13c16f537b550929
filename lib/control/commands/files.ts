// Command files: include runs one, write saves the settings as one.
import { z } from '../../config/zod.js';
import { command, type Command } from '../command.js';
import { word } from '../args.js';
import { commandError } from '../reply.js';
import { readCommandFile, runCommandText } from '../config-file.js';
import { renderConfig } from '../writer.js';
import { accessNote } from '../../errors.js';

export const commands: Command[] = [
  command({
    name: ['include'], help: "include FILE: run the commands in FILE (their errors go to pen's stdout)",
    args: z.tuple([word]),
    run: async (ctx, [file], call) => {
      const errors = await runCommandText(ctx, await readCommandFile(ctx, file), file, call);
      if (errors.length > 0) {
        const where = errors.map((e) => e.line).join(', ');
        throw commandError(`'${file}' had errors on line ${where} (errors went to pen's stdout)`);
      }
    },
  }),
  command({
    name: ['write'], help: 'write [FILE]: save the settings as commands to FILE (default: the -F file)',
    args: z.tuple([word.optional()]),
    run: async (ctx, [given], call) => {
      const file = given ?? ctx.settings().configFile;
      if (file === null) throw commandError('no FILE given and pen was started without -F');
      const text = renderConfig(call.table, ctx.settings(), { file, now: new Date() });
      try {
        await ctx.writeFile(file, text);
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        throw commandError(`can't write '${file}' (${why})${accessNote(e, ctx.settings().user)}`);
      }
    },
  }),
];
