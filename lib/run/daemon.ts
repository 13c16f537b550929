// Daemon mode without fork(): the foreground process re-spawns itself detached with an
// environment marker, waits for the child to report readiness (or its start-up error) over
// an IPC channel, and exits with the matching status. The child's stdio goes to /dev/null.
import { spawn } from 'node:child_process';

const MARKER = 'PEN_DAEMON_CHILD';

export function isDaemonChild(): boolean {
  return process.env[MARKER] === '1' && typeof process.send === 'function';
}

/**
 * In the parent: start the daemon and resolve with the exit status to use. Once the child is
 * ready, says "PROGRAM: running in the background, pid N" on stderr.
 */
export function spawnDaemon(program = 'pen'): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { ...process.env, [MARKER]: '1' },
    });
    child.once('message', (m: { ready?: boolean; error?: string; exitCode?: number; warnings?: string[] }) => {
      if (m.error) process.stderr.write(m.error.endsWith('\n') ? m.error : m.error + '\n');
      for (const w of m.warnings ?? []) process.stderr.write(`${w}\n`);
      if (m.ready) process.stderr.write(`${program}: running in the background, pid ${child.pid} (stop it with: kill ${child.pid})\n`);
      child.disconnect();
      child.unref();
      resolve(m.ready ? 0 : (m.exitCode ?? 1));
    });
    child.once('exit', (code) => resolve(code ?? 1));
    child.once('error', (err) => {
      process.stderr.write(`pen: cannot start the daemon: ${err.message}\n`);
      resolve(1);
    });
  });
}

/** In the child: report readiness (or a start-up failure) to the parent and detach from it. */
export function reportToParent(msg: { ready: true; warnings?: string[] } | { error: string; exitCode: number }): void {
  if (!isDaemonChild()) return;
  process.send!(msg, () => process.disconnect?.());
}
