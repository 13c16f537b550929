// Every process the bench starts goes through here, so that every one of them is stopped
// by its pid: on success, on failure, and on Ctrl-C / SIGTERM of the harness.
import { spawn, type ChildProcess } from 'node:child_process';
import { sleep } from './ports.js';

export interface SpawnSpec {
  /** Shown in errors: "haproxy", "bulk backend", ... */
  name: string;
  /** Pin with `taskset -c CPU`; null runs unpinned. */
  cpu: number | null;
  /** Soft RLIMIT_NOFILE set with `ulimit -n` before exec (must not exceed the hard limit). */
  nofile: number;
  cmd: string;
  args: string[];
  cwd?: string;
  /** 'pipe' keeps stdin open for helpers that take commands on it. */
  stdin?: 'pipe' | 'ignore';
}

const TAIL = 4096;

/** A started process. Its pid is the pid of `cmd` itself: sh and taskset both exec. */
export class Child {
  readonly pid: number;
  exited = false;
  exitDescription = '';
  private outTail = '';
  private errTail = '';
  private lineBuf = '';
  private lines: string[] = [];
  private lineWaiters: Array<() => void> = [];
  private exitWaiters: Array<() => void> = [];

  constructor(readonly name: string, readonly proc: ChildProcess) {
    if (proc.pid === undefined) throw new Error(`${name}: spawn failed`);
    this.pid = proc.pid;
    proc.stdout?.setEncoding('utf8').on('data', (s: string) => this.onStdout(s));
    proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.errTail = (this.errTail + s).slice(-TAIL);
    });
    proc.on('exit', (code, signal) => {
      this.exited = true;
      this.exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
      for (const w of this.exitWaiters.splice(0)) w();
      for (const w of this.lineWaiters.splice(0)) w();
    });
    proc.on('error', (e) => {
      this.errTail += `\n${e.message}`;
    });
  }

  private onStdout(s: string): void {
    this.outTail = (this.outTail + s).slice(-TAIL);
    this.lineBuf += s;
    let nl: number;
    while ((nl = this.lineBuf.indexOf('\n')) >= 0) {
      this.lines.push(this.lineBuf.slice(0, nl));
      this.lineBuf = this.lineBuf.slice(nl + 1);
    }
    for (const w of this.lineWaiters.splice(0)) w();
  }

  /** All stdout so far (the last 4 KiB): wrk's report, version strings. */
  get stdout(): string {
    return this.outTail;
  }

  /** Last lines of stderr (or stdout) without stack frames, for "failed: ..." reasons. */
  tail(maxLines = 6): string {
    const text = (this.errTail.trim() || this.outTail.trim()).split('\n');
    return text.filter((l) => l.trim() && !/^\s+at /.test(l)).slice(-maxLines).join(' | ');
  }

  /**
   * The next stdout line that parses as a JSON object. Rejects when the process exits first
   * or after `timeoutMs`. Helpers under bench/helpers/ speak one JSON object per line.
   */
  async nextJson<T = Record<string, unknown>>(timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.lines.length) {
        const line = this.lines.shift()!.trim();
        if (line.startsWith('{')) return JSON.parse(line) as T;
      }
      if (this.exited) throw new Error(`${this.name} ${this.exitDescription}: ${this.tail()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.name}: no report after ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.lineWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves when the process has exited, or with false after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((r) => {
      const t = setTimeout(() => r(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(t);
        r(true);
      });
    });
  }

  send(line: string): void {
    this.proc.stdin?.write(line + '\n');
  }
}

const running = new Set<Child>();

/** Start `spec.cmd` pinned and with a raised fd limit: sh -c 'ulimit -n N && exec taskset ...'. */
export function start(spec: SpawnSpec): Child {
  const pin = spec.cpu === null ? '' : `taskset -c ${spec.cpu} `;
  const script = `ulimit -n ${spec.nofile} && exec ${pin}"$@"`;
  const proc = spawn('sh', ['-c', script, 'sh', spec.cmd, ...spec.args], {
    cwd: spec.cwd,
    stdio: [spec.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  const child = new Child(spec.name, proc);
  running.add(child);
  proc.on('exit', () => running.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stop(child: Child, graceMs = 3000): Promise<void> {
  if (child.exited) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  if (await child.waitExit(graceMs)) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  await child.waitExit(graceMs);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stop(c)));
}

/**
 * Ctrl-C / SIGTERM stop every started process and exit 130; a last-chance 'exit' hook
 * SIGKILLs anything still running (e.g. after an uncaught exception).
 */
export function installCleanupHandlers(onSignal: () => Promise<void>): void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nbench: ${sig}, stopping ${running.size} process(es)\n`);
    void Promise.race([onSignal().then(stopAll), sleep(5000)]).finally(() => process.exit(130));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('exit', () => {
    for (const c of running) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}
