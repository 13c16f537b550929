// Socket options of another process's sockets (Linux): python3 duplicates the descriptor with
// pidfd_getfd(2) (needs Linux >= 5.6 and ptrace rights over the process, which root has) and
// reads TCP_NODELAY and SO_KEEPALIVE from the copy. Used to check that `tcp_nodelay` and
// `keepalive` reach the sockets pen creates. Resolves null when this machine cannot tell.
import { spawn } from 'node:child_process';

import { withTimeout } from './time.js';

export interface SockOpts {
  nodelay: boolean;
  keepalive: boolean;
}

const SCRIPT = [
  'import ctypes, json, os, socket, sys',
  'pid = int(sys.argv[1]); out = {}',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'pfd = os.pidfd_open(pid)',
  'for a in sys.argv[2:]:',
  '    fd = libc.syscall(438, pfd, int(a), 0)',
  '    if fd < 0:',
  '        out[a] = None; continue',
  '    s = socket.socket(fileno=fd)',
  '    try:',
  '        out[a] = {"nodelay": bool(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)),',
  '                  "keepalive": bool(s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))}',
  '    except OSError:',
  '        out[a] = None',
  '    finally:',
  '        s.close()',
  'print(json.dumps(out))',
].join('\n');

/** The options of descriptors `fds` of process `pid`; null if they cannot be read here. */
export async function socketOptions(pid: number, fds: number[]): Promise<Map<number, SockOpts | null> | null> {
  if (process.platform !== 'linux') return null;
  const py = spawn('python3', ['-c', SCRIPT, String(pid), ...fds.map(String)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  py.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const ok = await withTimeout(new Promise<boolean>((resolve) => {
    py.once('error', () => resolve(false));
    py.once('close', (code) => resolve(code === 0));
  }), 5000, 'python3 pidfd_getfd').catch(() => {
    py.kill('SIGKILL');
    return false;
  });
  if (!ok) return null;
  try {
    const parsed = JSON.parse(out) as Record<string, SockOpts | null>;
    const m = new Map<number, SockOpts | null>();
    for (const fd of fds) m.set(fd, parsed[String(fd)] ?? null);
    if ([...m.values()].every((v) => v === null)) return null;
    return m;
  } catch {
    return null;
  }
}
