// `npm run demo`: pen in front of two small local web servers, so a newcomer sees it balance.
// Starts the backends and pen (roundrobin), waits for pen's listening line, sends a few
// requests (the first goes to server 0, backend A), prints what to try, and stays up until
// Ctrl-C (then stops everything it started).
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function backend(name: string): Promise<number> {
  const srv = http.createServer((_req, res) => res.end(`hello from ${name}\n`));
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
}

function freePort(): Promise<number> {
  const s = net.createServer();
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(p));
  }));
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body.trim()));
    }).on('error', reject);
  });
}

/** Resolves once pen logs its listening line (no probe connection: it would take the first turn). */
function waitListening(stderr: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      if (seen !== 'done' && (seen += d.toString()).includes(' listening on ')) {
        seen = 'done';
        resolve();
      }
    });
  });
}

console.log('pen demo: two web servers and pen in front of them; it runs until you press Ctrl-C.\n');
const [a, b] = [await backend('backend A'), await backend('backend B')];
const port = Number(process.env.PORT) || (await freePort());
const args = ['-f', '-r', `127.0.0.1:${port}`, `127.0.0.1:${a}`, `127.0.0.1:${b}`];
const pen = spawn(process.execPath, [path.join(root, 'bin', 'pen.js'), ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
pen.on('exit', (code) => {
  console.log(`pen exited (${code})`);
  process.exit(code ?? 1);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => pen.kill('SIGTERM'));
await waitListening(pen.stderr!);

console.log(`\npen ${args.join(' ')}\n`);
for (let i = 0; i < 4; i++) console.log(`  request ${i + 1}: ${await get(port)}`);
console.log(`
pen is balancing 127.0.0.1:${port} across two web servers (roundrobin, -r): server 0 is
backend A, server 1 backend B, and each request goes to the next one.
Try:   curl http://127.0.0.1:${port}/        (run it a few times)
       node bin/pen.js --help
The demo runs until you press Ctrl-C (which stops pen and both web servers).`);
