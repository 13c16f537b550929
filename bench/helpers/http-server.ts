// Fallback HTTP backend (own process) for machines without nginx: answers every request
// with 200 and a small fixed body, keep-alive unless the client asks to close.
// Prints {"port": N} once listening on 127.0.0.1. Slower than nginx: results say which ran.
import http from 'node:http';
import net from 'node:net';

const BODY = Buffer.from(process.argv[2] ?? 'hello from the pen bench backend\n');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
  res.end(BODY);
});
server.keepAliveTimeout = 600_000;
server.maxRequestsPerSocket = 0;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as net.AddressInfo).port }) + '\n');
});
