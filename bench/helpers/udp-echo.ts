// UDP echo backend (runs as its own process, pinned by the harness): sends every datagram
// back to its sender unchanged. Prints {"port": N} on stdout once bound on 127.0.0.1 (port
// chosen by the OS).
import dgram from 'node:dgram';

const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
sock.on('message', (msg, r) => sock.send(msg, r.port, r.address));
sock.on('error', (e) => {
  process.stderr.write(`udp-echo: ${e.message}\n`);
});
sock.bind(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: sock.address().port }) + '\n');
});
