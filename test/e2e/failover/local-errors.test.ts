// A connect that fails for a shortage on pen's own host is not the server's fault (issue 12,
// defect 5): a unix-socket backend whose listen backlog is full makes connect() fail with
// EAGAIN; the client fails over, but the server is not blacklisted and gets the next client
// as soon as its backlog has room. (Before: it was blacklisted for -b seconds.)
// Block 24 (see test/helpers/net.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { startHttpNamed } from '../../helpers/backends.js';
import { whoAnswers } from '../../helpers/clients.js';
import { loopback, removeDir, tempDir } from '../../helpers/net.js';
import { penOn } from '../../helpers/pen.js';
import { scoped } from '../../helpers/scope.js';
import { waitFor } from '../../helpers/time.js';

const ip = loopback(24);

/**
 * A unix-socket HTTP server (python3) that listens with backlog 0, fills its own backlog with
 * two idle connections, and accepts nothing until it reads a line on stdin; then it accepts and
 * answers every request with `name`.
 */
const SERVER = `
import socket, sys, threading
path, name = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(0)
fillers = []
for _ in range(2):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(path)
    except BlockingIOError:
        pass
    fillers.append(c)
print("full", flush=True)
sys.stdin.readline()
def serve(conn):
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    if data:
        body = name.encode()
        conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % len(body) + body)
    conn.close()
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
`;

test('a full unix backlog (EAGAIN) fails the client over without blacklisting the server', () => scoped(async (s) => {
  const dir = tempDir('local-errors');
  s.defer(() => removeDir(dir));
  const sock = path.join(dir, 'full.sock');
  const py = spawn('python3', ['-c', SERVER, sock, 'U'], { stdio: ['pipe', 'pipe', 'pipe'] });
  s.defer(() => {
    try {
      if (py.pid && py.exitCode === null) process.kill(py.pid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  let out = '';
  py.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  await waitFor(() => out.includes('full'), 5000, 'the unix backend to fill its backlog');

  const a = s.backend(await startHttpNamed('A', { host: ip(2) }));
  const pen = s.pen(await penOn(ip(1), ['-r', '-b', '60'], [sock, a.spec]));
  assert.equal(await whoAnswers(pen.endpoint), 'A', 'the full backend was skipped');
  assert.doesNotMatch(pen.stderr(), /blacklisted/, `no blacklist: ${pen.stderr()}`);
  await waitFor(() => /not the server's fault/.test(pen.stderr()), 3000, 'the shortage to be logged');

  py.stdin.write('go\n');  // the backend accepts again: its turn comes at once, not in 60 s
  const next: string[] = [];
  for (let i = 0; i < 4; i++) next.push(await whoAnswers(pen.endpoint));
  assert.ok(next.includes('U'), `the unix backend serves again within the blacklist time: ${next.join(',')}`);
}));
