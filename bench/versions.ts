// Is a tool installed, and which version: for skip reasons and for the results' metadata.
import { spawnSync } from 'node:child_process';

/**
 * Runs `cmd args` (10 s at most) and returns the first non-empty line it printed (stdout,
 * else stderr: `nginx -v` writes there), or null when it cannot run or exits non-zero.
 */
export function commandVersion(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  const line = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').find((l) => l.trim());
  return line?.trim() ?? '';
}

/** Like commandVersion, but says why it failed: for "skipped: <reason>". */
export function whyNotRunnable(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `\`${[cmd, ...args].join(' ')}\` cannot run: ${r.error.message}`;
  if (r.status !== 0) {
    const err = (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
    return `\`${[cmd, ...args].join(' ')}\` exited with ${r.status ?? r.signal}${err ? `: ${err}` : ''}`;
  }
  return null;
}

/** True when `cmd` is found on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore' }).status === 0;
}

/** First line of `cmd args` whatever its exit status (wrk -v exits 1), or null if absent. */
export function anyOutput(cmd: string, args: string[]): string | null {
  if (!hasCommand(cmd)) return null;
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').find((l) => l.trim())?.trim() ?? '';
}
