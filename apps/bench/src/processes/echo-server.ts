// The echo target of the small-messages and connect-rate scenarios, in a process of its own:
// every byte a connection sends comes back on it; a connection that ends is ended back.
// Run: node echo-server.ts PORT. Prints `listening` once bound.

import { createServer } from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: echo-server.ts PORT\n');
  process.exit(2);
}

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
