// pen's diagnostic channel (spec/logging-tools.md §7): in the foreground, stderr with Pen's
// "YYYY-MM-DD HH:MM:SS: " prefix; as a daemon, syslog (ident pen, facility user) through the
// unix datagram socket /dev/log (lib/log/syslog.ts).
// Levels: 0 errors (always shown), 1 notable events, 2+ debug detail (-d raises the level
// shown); NOTICE is always shown too but is not an error (USR1 statistics).
export interface Logger {
  level: number;
  log(level: number, message: string): void;
}

/** The level of messages that are always shown and are not errors. */
export const NOTICE = -1;

export function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A logger writing lines at or below `level` to stderr. */
export function stderrLogger(level: number): Logger {
  return {
    level,
    log(lvl, message) {
      if (lvl <= this.level) process.stderr.write(`${stamp()}: ${message}\n`);
    },
  };
}
