// Bulk backend (runs as its own process, pinned by the harness).
// Protocol, one request per connection:
//   "GET <n>\n"  -> the server sends n bytes (a reused 1 MiB buffer) and closes;
//   "PUT <n>\n"  -> the client sends n bytes, the server replies "OK <n>\n" and closes.
// Prints {"port": N} on stdout once listening on 127.0.0.1 (port chosen by the OS).
import net from 'node:net';

const CHUNK = Buffer.alloc(1 << 20, 0x78);

function sendBytes(sock: net.Socket, n: number): void {
  let left = n;
  const pump = (): void => {
    while (left > 0) {
      const c = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= c.length;
      if (!sock.write(c)) {
        sock.once('drain', pump);
        return;
      }
    }
    sock.end();
  };
  pump();
}

function receiveBytes(sock: net.Socket, n: number, already: number): void {
  let got = already;
  const check = (): void => {
    if (got >= n) {
      sock.removeAllListeners('data');
      sock.end(`OK ${got}\n`);
    }
  };
  sock.on('data', (b: Buffer) => {
    got += b.length;
    check();
  });
  check();
}

const server = net.createServer((sock) => {
  sock.on('error', () => sock.destroy());
  let head = Buffer.alloc(0);
  const onHead = (b: Buffer): void => {
    head = Buffer.concat([head, b]);
    const nl = head.indexOf(0x0a);
    if (nl < 0) {
      if (head.length > 64) sock.destroy();
      return;
    }
    sock.off('data', onHead);
    const [verb, count] = head.subarray(0, nl).toString().trim().split(' ');
    const n = Number(count);
    if (!Number.isSafeInteger(n) || n < 0) return void sock.destroy();
    if (verb === 'GET') sendBytes(sock, n);
    else if (verb === 'PUT') receiveBytes(sock, n, head.length - nl - 1);
    else sock.destroy();
  };
  sock.on('data', onHead);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as net.AddressInfo).port }) + '\n');
});
