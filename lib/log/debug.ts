// pen's diagnostic channel: stderr with Pen's "YYYY-MM-DD HH:MM:SS: " prefix. Level 0 is
// errors (always shown), 1 notable events, 2+ debug detail (-d raises the level shown).
export interface Logger {
  level: number;
  log(level: number, message: string): void;
}

function stamp(d = new Date()): string {
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
