// SO_REUSEPORT lets any process of the same user join a port group silently, so binding with
// reusePort cannot tell a foreign holder from our own shards. Before the shards bind a new
// listener, the supervisor binds the same address once WITHOUT SO_REUSEPORT: any socket already
// holding it, reuseport or not, makes that bind fail with EADDRINUSE.

import { createServer } from 'node:net';
import { bindErrorCode, type CoreErrorData, coreError } from './errors.ts';

export function probeListen(host: string, port: number, label: string): Promise<CoreErrorData | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve(coreError(bindErrorCode(err.code), { listen: label, detail: err.message }));
    });
    server.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      server.close(() => resolve(null));
    });
  });
}
