// The data dir: one directory holding everything the server keeps. It is made mode 0700 on
// first start, because it holds the TLS private key and the database of token and secret
// hashes; nobody but the server's user has any business listing it.

import { chmodSync, existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SluiceError } from '@sluice/errors';
import { serverError } from './errors.ts';

export const DEFAULT_DATA_DIR = './sluice-data';

export interface DataDir {
  /** Absolute, symlinks resolved: the lock is named after it. */
  readonly path: string;
  readonly keyFile: string;
  readonly certFile: string;
  readonly dbFile: string;
}

export function dataDirPaths(path: string): DataDir {
  return {
    path,
    keyFile: join(path, 'server.key'),
    certFile: join(path, 'server.crt'),
    dbFile: join(path, 'sluice.db'),
  };
}

/**
 * Makes the data dir (mode 0700) when it does not exist, and answers its paths. An existing dir
 * keeps its mode: the operator may have reasons (a group-readable backup dir), and the key file
 * carries its own 0600 check.
 */
export function openDataDir(dir: string, { create }: { create: boolean }): DataDir {
  const absolute = resolve(dir);
  try {
    if (!existsSync(absolute)) {
      if (!create) throw serverError('data_dir_unusable', `data dir ${absolute} does not exist`);
      mkdirSync(absolute, { recursive: true, mode: 0o700 });
      // mkdir's mode passes through the umask; set it exactly.
      chmodSync(absolute, 0o700);
    }
    if (!statSync(absolute).isDirectory()) {
      throw serverError('data_dir_unusable', `data dir ${absolute} is not a directory`);
    }
    return dataDirPaths(realpathSync(absolute));
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw serverError('data_dir_unusable', `data dir ${absolute}: ${(error as Error).message}`);
  }
}
