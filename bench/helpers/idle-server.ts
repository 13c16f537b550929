// Idle backend (own process): accepts connections, greets each with one byte "!" so the
// client knows the whole path (client -> LB -> backend) is up, then holds it open and
// silent until the peer closes. Prints {"port": N} once listening on 127.0.0.1.
import net from 'node:net';

const server = net.createServer((sock) => {
  sock.on('error', () => sock.destroy());
  sock.on('end', () => sock.end());
  sock.write('!');
});
server.maxConnections = 1 << 20;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as net.AddressInfo).port }) + '\n');
});
