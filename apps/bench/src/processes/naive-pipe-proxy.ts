// The naive proxy a Node user writes first: accept, connect to the target, pipe both ways.
// Run as its own process by the `naive-pipe` contender: node naive-pipe-proxy.ts LISTEN TARGET.
// Prints `listening` once bound.

import { createConnection, createServer } from 'node:net';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
if (!Number.isInteger(listenPort) || !Number.isInteger(targetPort)) {
  process.stderr.write('usage: naive-pipe-proxy.ts LISTEN_PORT TARGET_PORT\n');
  process.exit(2);
}

const server = createServer((client) => {
  const upstream = createConnection({ host: '127.0.0.1', port: targetPort! });
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen({ host: '127.0.0.1', port: listenPort!, backlog: 4096 }, () => {
  process.stdout.write('listening\n');
});
process.on('SIGTERM', () => process.exit(0));
