// One server per data dir. SQLite's own locking keeps the file consistent but would let two
// servers both run on it, each pushing rules to edges and each believing its sessions are the
// only ones. So a server holds a lock for as long as it runs.
//
// The lock is a Linux abstract unix socket named after the data dir's real path. Binding it is
// atomic, a second bind fails with EADDRINUSE, and the kernel releases it the moment the
// process dies however it dies (SIGKILL, OOM), so there is never a stale lock file to clean up
// by hand and no PID that might have been reused. It names the realpath so that two spellings
// of one dir (a symlink, a relative path) meet at the same lock. Abstract sockets are
// Linux-only, as is sluice's data plane.

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { serverError } from './errors.ts';

export interface StoreLock {
  readonly name: string;
  release(): Promise<void>;
}

export function lockName(dataDirRealpath: string): string {
  return `\0sluice-server-${createHash('sha256').update(dataDirRealpath).digest('hex')}`;
}

/** Takes the data dir's lock or fails with store_in_use. `dataDirRealpath` must be resolved. */
export function acquireStoreLock(dataDirRealpath: string): Promise<StoreLock> {
  const name = lockName(dataDirRealpath);
  const server: Server = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          serverError(
            'store_in_use',
            `data dir ${dataDirRealpath} is in use by another sluice-server (stop it first; backup works while it runs)`,
          ),
        );
      } else {
        reject(
          serverError(
            'store_in_use',
            `cannot take the lock of data dir ${dataDirRealpath}: ${error.message}`,
          ),
        );
      }
    });
    server.listen(name, () => {
      // The lock must not keep a process alive that has nothing else to do.
      server.unref();
      resolve({
        name,
        release: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
