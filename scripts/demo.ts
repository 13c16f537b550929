// `npm run demo`: pen in front of two small local web servers, so a newcomer sees it balance.
// Starts the backends and pen (roundrobin), sends a few requests, prints what to try, and
// stays up until Ctrl-C (then stops everything it started).
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

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('pen did not start listening');
}

const [a, b] = [await backend('backend A'), await backend('backend B')];
const port = Number(process.env.PORT) || (await freePort());
const args = ['-f', '-r', String(port), `127.0.0.1:${a}`, `127.0.0.1:${b}`];
const pen = spawn(process.execPath, [path.join(root, 'bin', 'pen.js'), ...args], { stdio: 'inherit' });
pen.on('exit', (code) => {
  console.log(`pen exited (${code})`);
  process.exit(code ?? 1);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => pen.kill('SIGTERM'));
await waitListening(port);

console.log(`\npen ${args.join(' ')}\n`);
for (let i = 0; i < 4; i++) console.log(`  request ${i + 1}: ${await get(port)}`);
console.log(`
pen is balancing 127.0.0.1:${port} across two web servers (roundrobin, -r).
Try:   curl http://127.0.0.1:${port}/        (run it a few times)
       npx pen --help
Ctrl-C stops the demo.`);
