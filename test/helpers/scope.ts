// Cleanup for a test: everything started is registered here and torn down in reverse order
// in a finally/after, also when the test failed half-way. Teardown never throws.
import type { ChildProcess } from 'node:child_process';

import type { Backend } from './backends.js';
import type { Client } from './clients.js';
import type { Pen } from './pen.js';

export class Scope {
  private tasks: (() => unknown)[] = [];

  defer(fn: () => unknown): void {
    this.tasks.push(fn);
  }

  pen<T extends Pen>(p: T): T {
    this.defer(() => p.kill());
    return p;
  }

  backend<T extends Backend>(b: T): T {
    this.defer(() => b.close());
    return b;
  }

  client<T extends Client>(c: T): T {
    this.defer(() => c.destroy());
    return c;
  }

  /** A child process the test started: SIGKILLed by pid at the end if it still runs. */
  process<T extends ChildProcess>(child: T): T {
    this.defer(() => {
      if (child.pid && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
    return child;
  }

  async close(): Promise<void> {
    const tasks = this.tasks.reverse();
    this.tasks = [];
    for (const t of tasks) {
      try {
        await t();
      } catch {
        // teardown of a half-started test: keep going
      }
    }
  }
}

/** Runs `fn` with a fresh Scope that is closed afterwards, whatever happens. */
export async function scoped<T>(fn: (s: Scope) => Promise<T>): Promise<T> {
  const s = new Scope();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
