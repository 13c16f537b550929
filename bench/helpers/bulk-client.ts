// Bulk client (own process): one transfer through 127.0.0.1:PORT using bulk-server's
// protocol. Usage: bulk-client.js PORT get|put BYTES
// Prints {"bytes": transferred, "ms": wall time from connect to the last byte/ack}, or
// exits 1 with a message on stderr when the transfer is short or fails.
import net from 'node:net';

const [portArg, mode, bytesArg] = process.argv.slice(2);
const port = Number(portArg);
const total = Number(bytesArg);
const CHUNK = Buffer.alloc(1 << 20, 0x79);
const t0 = process.hrtime.bigint();

function fail(msg: string): never {
  process.stderr.write(`bulk-client: ${msg}\n`);
  process.exit(1);
}

function report(bytes: number): void {
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (bytes !== total) fail(`transferred ${bytes} of ${total} bytes`);
  process.stdout.write(JSON.stringify({ bytes, ms }) + '\n');
}

if (mode === 'get') {
  let got = 0;
  // onread with one reused buffer: no allocation per read, so the client stays cheap.
  const sock = net.connect({
    host: '127.0.0.1',
    port,
    onread: { buffer: Buffer.alloc(1 << 20), callback: (n: number) => ((got += n), true) },
  });
  sock.on('connect', () => sock.write(`GET ${total}\n`));
  sock.on('end', () => {
    report(got);
    sock.destroy();
  });
  sock.on('error', (e) => fail(`${e.message} after ${got} bytes`));
} else if (mode === 'put') {
  let reply = '';
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.setEncoding('utf8');
  sock.on('connect', () => {
    sock.write(`PUT ${total}\n`);
    let left = total;
    const pump = (): void => {
      while (left > 0) {
        const c = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= c.length;
        if (!sock.write(c)) return void sock.once('drain', pump);
      }
    };
    pump();
  });
  sock.on('data', (s: string) => {
    reply += s;
    const m = /^OK (\d+)\n/.exec(reply);
    if (m) {
      report(Number(m[1]));
      sock.destroy();
    }
  });
  sock.on('end', () => fail(`closed before the ack (got "${reply.trim()}")`));
  sock.on('error', (e) => fail(e.message));
} else {
  fail('usage: bulk-client.js PORT get|put BYTES');
}
