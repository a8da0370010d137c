// The idle-memory target: accepts connections on 127.0.0.1:PORT and holds them without reading
// or writing; answers `count` with how many it holds. Run: node idle-holder.ts PORT (with IPC).

import { createServer, type Socket } from 'node:net';
import { type IdleReply, isIdleRequest } from './idle-messages.ts';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || process.send === undefined) {
  process.stderr.write('usage: idle-holder.ts PORT (started with an IPC channel)\n');
  process.exit(2);
}

const send = (reply: IdleReply): void => void process.send!(reply);
const held = new Set<Socket>();

const server = createServer((socket) => {
  held.add(socket);
  socket.on('error', () => socket.destroy());
  socket.on('close', () => held.delete(socket));
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => send({ type: 'listening', port }));

process.on('message', (message: unknown) => {
  if (isIdleRequest(message) && message.type === 'count') send({ type: 'count', open: held.size });
});
process.on('disconnect', () => process.exit(0));
