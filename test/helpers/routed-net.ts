// A routed topology of network namespaces for transparent proxying (root only): a client
// network and a backend network with the pen host as the router between them.
//
//   client  eth0 10.61.1.2 fd61:1::2  ---  c0 10.61.1.1 fd61:1::1  pen
//   backend eth0 10.61.2.2 fd61:2::2  ---  b0 10.61.2.1 fd61:2::1  pen
//
// The client's and the backend's default routes go through pen (so the backend's replies to a
// client address reach the pen host), pen does not forward, and divert() installs on the pen
// host the policy routing pen's README gives (iptables mangle DIVERT, ip rule fwmark, a local
// route table) for IPv4 and IPv6. Namespaces are unique per run (prefix + pid + counter): the
// addresses above live only inside them. close() kills what was spawned (by pid) and deletes
// the namespaces (which removes their veths and iptables rules).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

import { Namespaces } from './netns.js';

const run = promisify(execFile);

/** The reason these tests cannot run here, or null when they can. */
export function routedNetUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].some((p) => fs.existsSync(p))) return 'needs iproute2';
  if (!['/usr/sbin/iptables', '/sbin/iptables'].some((p) => fs.existsSync(p))) return 'needs iptables (Debian: apt-get install iptables)';
  return null;
}

export const ADDR = {
  client4: '10.61.1.2', penClient4: '10.61.1.1', pen4: '10.61.2.1', backend4: '10.61.2.2',
  client6: 'fd61:1::2', penClient6: 'fd61:1::1', pen6: 'fd61:2::1', backend6: 'fd61:2::2',
} as const;

export type Host = 'client' | 'pen' | 'backend';

let counter = 0;

export class RoutedNet extends Namespaces<Host> {
  private readonly prefix = `tp${process.pid % 100000}${counter++}`;

  private constructor() {
    super();
  }

  /** Makes the three namespaces, their links, addresses and routes. Throws (after cleaning up) when a command fails. */
  static async create(): Promise<RoutedNet> {
    const n = new RoutedNet();
    try {
      for (const h of ['client', 'pen', 'backend'] as const) {
        await n.addNs(n.ns(h));
        await ip('-n', n.ns(h), 'link', 'set', 'lo', 'up');
      }
      const link = async (host: Host, dev: string, a4: string, a6: string, penDev: string, p4: string, p6: string) => {
        await ip('link', 'add', dev, 'netns', n.ns(host), 'type', 'veth', 'peer', 'name', penDev, 'netns', n.ns('pen'));
        for (const [h, d, x4, x6] of [[host, dev, a4, a6], ['pen', penDev, p4, p6]] as const) {
          await ip('-n', n.ns(h), 'addr', 'add', `${x4}/24`, 'dev', d);
          await ip('-n', n.ns(h), '-6', 'addr', 'add', `${x6}/64`, 'dev', d, 'nodad');
          await ip('-n', n.ns(h), 'link', 'set', d, 'up');
        }
        await ip('-n', n.ns(host), 'route', 'add', 'default', 'via', p4);
        await ip('-n', n.ns(host), '-6', 'route', 'add', 'default', 'via', p6);
      };
      await link('client', 'eth0', ADDR.client4, ADDR.client6, 'c0', ADDR.penClient4, ADDR.penClient6);
      await link('backend', 'eth0', ADDR.backend4, ADDR.backend6, 'b0', ADDR.pen4, ADDR.pen6);
    } catch (e) {
      await n.close();
      throw e;
    }
    return n;
  }

  ns(h: Host): string {
    return `${this.prefix}-${h}`;
  }

  /**
   * The pen host's policy routing for transparent proxying, as pen's README gives it: packets
   * that belong to a local socket (the backend's replies to a client address a transparent
   * socket is bound to) get mark 1, and mark 1 is routed to the local host.
   */
  async divert(): Promise<void> {
    for (const [tables, v] of [['iptables', '-4'], ['ip6tables', '-6']] as const) {
      const t = (...a: string[]) => this.exec('pen', [tables, '-w', '5', '-t', 'mangle', ...a]);
      await t('-N', 'DIVERT');
      await t('-A', 'PREROUTING', '-p', 'tcp', '-m', 'socket', '-j', 'DIVERT');
      await t('-A', 'PREROUTING', '-p', 'udp', '-m', 'socket', '-j', 'DIVERT');
      await t('-A', 'DIVERT', '-j', 'MARK', '--set-mark', '1');
      await t('-A', 'DIVERT', '-j', 'ACCEPT');
      await ip('-n', this.ns('pen'), v, 'rule', 'add', 'fwmark', '1', 'lookup', '100');
      await ip('-n', this.ns('pen'), v, 'route', 'add', 'local', v === '-4' ? '0.0.0.0/0' : '::/0', 'dev', 'lo', 'table', '100');
    }
  }
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10000 });
}
