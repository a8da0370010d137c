// One server per data dir. SQLite's own locking keeps the file consistent but would let two
// servers both run on it, each pushing rules to edges and each believing its sessions are the
// only ones. So a server holds a lock for as long as it runs.
//
// The lock is an exclusive lock on the file `server.lock` in the data dir, taken through SQLite
// (node:sqlite, so no addon): POSIX advisory locks, which the kernel drops the moment the process
// dies however it dies (SIGKILL, OOM), so a leftover file is never a stale lock. Being a lock on
// the file, it holds across network namespaces and containers that share the volume, where a name
// in the abstract socket namespace (what this was before) did not. SQLite also keeps two
// connections of one process from sharing it, which POSIX locks alone would allow.

import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { serverError } from './errors.ts';

export interface StoreLock {
  /** The locked file. */
  readonly file: string;
  release(): Promise<void>;
}

export const LOCK_FILE = 'server.lock';

/** Takes the data dir's lock or fails with store_in_use. `dataDirRealpath` must be resolved. */
export async function acquireStoreLock(dataDirRealpath: string): Promise<StoreLock> {
  const file = join(dataDirRealpath, LOCK_FILE);
  let db: DatabaseSync | null = null;
  try {
    closeSync(openSync(file, 'a', 0o600));
    db = new DatabaseSync(file, { timeout: 0 });
    // Exclusive locking mode keeps the lock after the transaction's first write until close;
    // the empty table is only there to be written.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS held (at INTEGER)');
    db.exec('COMMIT');
  } catch (error) {
    db?.close();
    const busy = (error as { errcode?: number }).errcode === 5;
    throw serverError(
      'store_in_use',
      busy
        ? `data dir ${dataDirRealpath} is in use by another sluice-server (stop it first; backup works while it runs)`
        : `cannot take the lock of data dir ${dataDirRealpath} (${file}): ${(error as Error).message}`,
    );
  }
  const held = db;
  return {
    file,
    release: async () => {
      if (held.isOpen) held.close();
    },
  };
}
