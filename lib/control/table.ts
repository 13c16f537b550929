// THE command table: every group of commands/*.ts gathered into one map. -O, the -F file,
// include, HUP reload and the control socket all look commands up here (through dispatch()).
import type { Command, CommandTable } from './command.js';
import { commands as acl } from './commands/acl.js';
import { commands as clients } from './commands/clients.js';
import { commands as dsr } from './commands/dsr.js';
import { commands as dummyIdlers } from './commands/dummy-idlers.js';
import { commands as files } from './commands/files.js';
import { commands as globals } from './commands/globals.js';
import { commands as logging } from './commands/logging.js';
import { commands as modes } from './commands/modes.js';
import { commands as processCommands } from './commands/process.js';
import { commands as servers } from './commands/servers.js';
import { commands as ssl } from './commands/ssl.js';
import { commands as udp } from './commands/udp.js';
import { commands as unsupported } from './commands/unsupported.js';

/**
 * Builds a table from groups of entries. Throws (at start-up, on first use) if two entries
 * claim the same name, or a name is not one word, or 'no' plus one word.
 */
export function buildTable(groups: readonly (readonly Command[])[]): CommandTable {
  const byName = new Map<string, Command>();
  const commands: Command[] = [];
  for (const cmd of groups.flat()) {
    for (const name of cmd.name) {
      if (!/^(no )?[a-z_0-9.]+$/.test(name)) throw new Error(`command table: bad command name "${name}"`);
      if (byName.has(name)) throw new Error(`command table: "${name}" is defined twice`);
      byName.set(name, cmd);
    }
    commands.push(cmd);
  }
  return { byName, commands };
}

let table: CommandTable | null = null;

/** pen's command table (built on first use; call it at start-up to check it early). */
export function commandTable(): CommandTable {
  table ??= buildTable([servers, acl, modes, globals, clients, processCommands, files, logging, ssl, udp, dsr, dummyIdlers, unsupported]);
  return table;
}
