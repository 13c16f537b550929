// UDP round-trip load client (own process, pinned by the harness).
// Usage: udp-client.js '{"port":P,"sockets":S,"window":W,"size":B,"ms":T,"drainMs":D}'
// Opens S sockets on 127.0.0.1 (S client ports: S flows through a balancer); each keeps W
// datagrams of B bytes outstanding to 127.0.0.1:P and sends a new one for every reply, for
// T ms. Then it stops sending, waits up to D ms for the replies still due, and prints
// {"sent":..,"received":..,"lost":..,"ms":..} (ms: the sending phase).
import dgram from 'node:dgram';

interface Options {
  port: number;
  sockets: number;
  window: number;
  size: number;
  ms: number;
  drainMs: number;
}
const opt = JSON.parse(process.argv[2] ?? '{}') as Options;
const payload = Buffer.alloc(opt.size, 0x61);

let sent = 0;
let received = 0;
let sending = true;
let t0 = 0;
let sendMs = 0;

function report(): void {
  process.stdout.write(JSON.stringify({ sent, received, lost: sent - received, ms: sendMs }) + '\n', () => process.exit(0));
}

const socks: dgram.Socket[] = [];
for (let i = 0; i < opt.sockets; i++) {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  s.on('error', (e) => process.stderr.write(`udp-client: ${e.message}\n`));
  s.on('message', () => {
    received++;
    if (sending) {
      sent++;
      s.send(payload, opt.port, '127.0.0.1');
    } else if (received === sent) report();
  });
  socks.push(s);
}

await Promise.all(socks.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
t0 = Date.now();
for (const s of socks) {
  for (let k = 0; k < opt.window; k++) {
    sent++;
    s.send(payload, opt.port, '127.0.0.1');
  }
}
setTimeout(() => {
  sending = false;
  sendMs = Date.now() - t0;
  if (received === sent) report();
  setTimeout(report, opt.drainMs);
}, opt.ms);
