// The log outputs of a running pen that follow its settings: the debug level the logger
// shows and the request log's destination. Runtime.update() applies them before the data
// plane gets the new snapshot, so a `log` that cannot be opened changes nothing.
import type { Settings } from '../config/settings.js';
import { AccessLog } from './access.js';
import type { Logger } from './debug.js';

export class LogOutputs {
  readonly access: AccessLog;

  constructor(readonly logger: Logger) {
    this.access = new AccessLog(logger);
  }

  /**
   * Opens the request log `s.log` names (when it changed) and sets the level the logger
   * shows. Throws PenError when the log cannot be opened; nothing has changed then.
   */
  async apply(s: Readonly<Settings>): Promise<void> {
    await this.access.open(s.log);
    this.logger.level = s.debug;
  }
}
