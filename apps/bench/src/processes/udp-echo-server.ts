// A UDP echo target in a process of its own: every datagram goes back to its sender.
// Run: node udp-echo-server.ts PORT. Prints `listening` once bound.

import { createSocket } from 'node:dgram';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: udp-echo-server.ts PORT\n');
  process.exit(2);
}

const socket = createSocket('udp4');
socket.on('message', (message, from) => socket.send(message, from.port, from.address));
socket.on('error', (err) => process.stderr.write(`udp echo: ${err.message}\n`));
socket.bind(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
