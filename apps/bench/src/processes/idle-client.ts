// The idle-memory client: on `open`, connects COUNT times to 127.0.0.1:PORT (at most
// CONCURRENCY connects in flight) and holds the sockets silently; on `close`, destroys them.
// Run: node idle-client.ts (with IPC).

import { createConnection, type Socket } from 'node:net';
import { type IdleReply, type IdleRequest, isIdleRequest } from './idle-messages.ts';

if (process.send === undefined) {
  process.stderr.write('usage: idle-client.ts (started with an IPC channel)\n');
  process.exit(2);
}

const send = (reply: IdleReply): void => void process.send!(reply);
const open = new Set<Socket>();

function connectOne(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      open.add(socket);
      resolve(null);
    });
    socket.on('error', (err) => {
      socket.destroy();
      resolve(err.message);
    });
    socket.on('close', () => open.delete(socket));
  });
}

async function openMany(request: Extract<IdleRequest, { type: 'open' }>): Promise<void> {
  let started = 0;
  let failed = 0;
  let firstError: string | null = null;
  const lane = async (): Promise<void> => {
    while (started < request.count) {
      started++;
      const error = await connectOne(request.port);
      if (error !== null) {
        failed++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, request.concurrency) }, lane));
  send({ type: 'opened', open: open.size, failed, firstError });
}

process.on('message', (message: unknown) => {
  if (!isIdleRequest(message)) return;
  switch (message.type) {
    case 'open':
      void openMany(message);
      break;
    case 'close':
      for (const socket of open) socket.destroy();
      open.clear();
      send({ type: 'closed', open: open.size });
      break;
    case 'count':
      send({ type: 'count', open: open.size });
      break;
  }
});
process.on('disconnect', () => process.exit(0));
