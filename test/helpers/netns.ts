// Network namespaces for the root-only tests (test/netns/) and bench/dsr: a LAN made of one
// bridge namespace and one namespace per host, each host with `eth0` on the bridge. Names are
// unique per run (prefix + pid + counter); close() deletes every namespace it made (which
// also removes their veths) and kills what was spawned inside, by pid.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The reason root-only tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!fs.existsSync('/usr/sbin/ip') && !fs.existsSync('/sbin/ip') && !fs.existsSync('/usr/bin/ip')) return 'needs iproute2';
  return null;
}

/** build/native-tests/pen_dsr_forward (built by scripts/run-tests.js), or null when absent. */
export function dsrForwarderBin(): string | null {
  const p = fileURLToPath(new URL('../../../build/native-tests/pen_dsr_forward', import.meta.url));
  return fs.existsSync(p) ? p : null;
}

let counter = 0;

export interface Host {
  ns: string;
  /** The host's primary address (a /24 on the LAN). */
  ip: string;
}

/**
 * What every namespace topology shares: the namespaces it made and the processes it started
 * in them. Subclasses name their hosts (ns()); close() kills the children by pid and deletes
 * the namespaces (which removes their veths and firewall rules).
 */
export abstract class Namespaces<H extends string = string> {
  private children: ChildProcess[] = [];
  private made: string[] = [];

  /** The namespace of host h. */
  abstract ns(h: H): string;

  /** Runs a command inside host h; resolves with stdout; bounded by timeoutMs. */
  async exec(h: H, cmd: string[], timeoutMs = 10000): Promise<string> {
    const r = await run('ip', ['netns', 'exec', this.ns(h), ...cmd], { timeout: timeoutMs, maxBuffer: 1 << 24 });
    return r.stdout;
  }

  /** Starts a command inside host h (stdin, stdout, stderr piped; `ip netns exec` execs it, so
      the child's pid is the command's); killed (by pid) on close(). */
  spawn(h: H, cmd: string[]): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.ns(h), ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.push(c);
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.children.reverse()) {
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.children = [];
    for (const ns of this.made.reverse()) {
      try {
        await ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    this.made = [];
  }

  /** Creates namespace ns, deleted again by close(). */
  protected async addNs(ns: string): Promise<void> {
    await ip('netns', 'add', ns);
    this.made.push(ns);
  }
}

export class Lan extends Namespaces {
  readonly prefix: string;
  readonly hosts = new Map<string, Host>();

  private constructor(prefix: string) {
    super();
    this.prefix = prefix;
  }

  /**
   * A LAN 10.N.0.0/24 (N from the pid) with the given hosts; host i gets address 10.N.0.(i+1)
   * unless `addresses` names it. Throws (after cleaning up) when a command fails.
   */
  static async create(names: string[], addresses: Record<string, string> = {}): Promise<Lan> {
    const tag = `${process.pid % 100000}${counter++}`;
    const lan = new Lan(`pt${tag}`);
    const net = `10.${100 + (process.pid + counter) % 100}.0`;
    try {
      const sw = lan.nsName('sw');
      await lan.addNs(sw);
      await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
      await ip('-n', sw, 'link', 'set', 'br0', 'up');
      for (const [i, name] of names.entries()) {
        const ns = lan.nsName(name);
        await lan.addNs(ns);
        const port = `p${i}`;
        await ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', sw);
        await ip('-n', sw, 'link', 'set', port, 'master', 'br0');
        await ip('-n', sw, 'link', 'set', port, 'up');
        await ip('-n', ns, 'link', 'set', 'lo', 'up');
        await ip('-n', ns, 'link', 'set', 'eth0', 'up');
        const addr = addresses[name] ?? `${net}.${i + 1}`;
        await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
        lan.hosts.set(name, { ns, ip: addr });
      }
    } catch (e) {
      await lan.close();
      throw e;
    }
    return lan;
  }

  /** 10.N.0.x on this LAN. */
  addr(x: number): string {
    const any = [...this.hosts.values()][0]!.ip;
    return any.replace(/\.\d+$/, `.${x}`);
  }

  ns(name: string): string {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h.ns;
  }



  /** Makes host `name` a DSR backend: VIP on loopback, no ARP for it (arp_ignore/arp_announce). */
  async dsrBackend(name: string, vip: string): Promise<void> {
    const ns = this.ns(name);
    await ip('-n', ns, 'addr', 'add', `${vip}/32`, 'dev', 'lo');
    for (const i of ['all', 'eth0']) {
      await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv4.conf.${i}.arp_ignore=1`,
        `net.ipv4.conf.${i}.arp_announce=2`]);
    }
  }


  private nsName(name: string): string {
    return `${this.prefix}-${name}`;
  }

}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10000 });
}

/** Resolves with the first line of `c`'s stdout matching re; rejects on exit or timeout. */
export function waitLine(c: ChildProcess, re: RegExp, timeoutMs = 8000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const t = setTimeout(() => done(new Error(`timeout waiting for ${re}; stderr: ${err}`)), timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) if (re.test(line)) return done(null, line);
    };
    const onErr = (d: Buffer) => {
      err += d.toString();
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before ${re}; stderr: ${err}`));
    function done(e: Error | null, line?: string) {
      clearTimeout(t);
      c.stdout?.off('data', onData);
      c.stderr?.off('data', onErr);
      c.off('exit', onExit);
      if (e) reject(e);
      else resolve(line!);
    }
    c.stdout?.on('data', onData);
    c.stderr?.on('data', onErr);
    c.on('exit', onExit);
  });
}
