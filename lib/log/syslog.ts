// Diagnostics to syslog for daemons (pen, penlogd): RFC 3164 messages ("<PRI>Mmm dd hh:mm:ss
// IDENT[PID]: text") sent as datagrams to the local syslog socket, /dev/log by default
// (PEN_SYSLOG_SOCKET names another one). Node has no unix datagram sockets, so the addon
// opens and writes the socket; it is connected when the logger is made, before any chroot.
// Sends never wait: a message the syslog daemon cannot take at once is dropped and counted,
// and the count is reported in the next message that gets through.
import fs from 'node:fs';
import os from 'node:os';

import { loadAddon } from '../engine/native.js';
import type { Logger } from './debug.js';

const FACILITY_USER = 1;
const SEVERITY = { err: 3, info: 6, debug: 7 } as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** The largest message sent; longer ones are cut (syslog daemons cut at 1-8 KiB anyway). */
const MESSAGE_MAX = 8192;

export const DEFAULT_SYSLOG_SOCKET = '/dev/log';

export function syslogSocketPath(env = process.env): string {
  return env.PEN_SYSLOG_SOCKET || DEFAULT_SYSLOG_SOCKET;
}

/** One syslog datagram; level as in Logger: < 0 info, 0 err, above debug. */
export function syslogMessage(ident: string, pid: number, level: number, message: string, now = new Date()): Buffer {
  const severity = level < 0 ? SEVERITY.info : level === 0 ? SEVERITY.err : SEVERITY.debug;
  const p = (n: number) => String(n).padStart(2, '0');
  const time = `${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
  const b = Buffer.from(`<${FACILITY_USER * 8 + severity}>${time} ${ident}[${pid}]: ${message}`);
  return b.length > MESSAGE_MAX ? b.subarray(0, MESSAGE_MAX) : b;
}

/**
 * A logger sending messages at or below `level` to syslog as `ident`. Throws PEN_ERR_DATAGRAM
 * (naming the socket) when the socket cannot be opened.
 */
export function syslogLogger(ident: string, level: number, socketPath = syslogSocketPath()): Logger {
  const addon = loadAddon();
  let fd = addon.openDatagram(socketPath);
  let lost = 0;
  const sendOne = (b: Buffer): number => addon.sendDatagrams(fd, [b]).errno;
  const send = (lvl: number, message: string): void => {
    let err = sendOne(syslogMessage(ident, process.pid, lvl, message));
    if (err !== 0 && err !== os.constants.errno.EAGAIN) {
      // The daemon restarted (ECONNREFUSED): connect again once; after chroot this may fail.
      try {
        const again = addon.openDatagram(socketPath);
        fs.closeSync(fd);
        fd = again;
        err = sendOne(syslogMessage(ident, process.pid, lvl, message));
      } catch {
        // keep the old socket; the message is lost
      }
    }
    if (err !== 0) lost++;
  };
  return {
    level,
    log(lvl, message) {
      if (lvl > this.level) return;
      if (lost > 0 && sendOne(syslogMessage(ident, process.pid, 0,
        `${lost} earlier message(s) were lost (the syslog socket was full or gone)`)) === 0) lost = 0;
      send(lvl, message);
    },
  };
}
