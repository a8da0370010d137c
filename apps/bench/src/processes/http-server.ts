// The HTTP target of the http scenario, in a process of its own: a plain node:http server that
// answers every request 200 with a 13-byte body, keep-alive. Run: node http-server.ts PORT.
// Prints `listening` once bound.

import { createServer } from 'node:http';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: http-server.ts PORT\n');
  process.exit(2);
}

const BODY = Buffer.from('hello, bench\n');
const server = createServer({ keepAliveTimeout: 60_000 }, (_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  response.end(BODY);
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
