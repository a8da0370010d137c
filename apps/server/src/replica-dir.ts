// `sluice-server prepare-replica`: a data dir for another replica of a server on PostgreSQL.
// Replicas share one certificate and key, so the pin in every edge's bundle holds for all of
// them; the key is copied from data dir to data dir (mode 0600) and never goes into the
// database. The rest of a replica's state is in the shared store.

import { constants, copyFileSync, existsSync } from 'node:fs';
import { checkKeyMode, loadOrCreateCertificate } from './certificate.ts';
import { type DataDir, openDataDir } from './data-dir.ts';
import { serverError } from './errors.ts';

export interface PreparedReplica {
  readonly dataDir: DataDir;
  readonly fingerprint: string;
}

export function prepareReplicaDir(from: string, to: string): PreparedReplica {
  const source = openDataDir(from, { create: false });
  if (!existsSync(source.keyFile) || !existsSync(source.certFile)) {
    throw serverError(
      'certificate_invalid',
      `${source.path} holds no server.key and server.crt; start the first replica once, then prepare the others from its data dir`,
    );
  }
  checkKeyMode(source.keyFile);
  const target = openDataDir(to, { create: true });
  if (target.path === source.path) {
    throw serverError('usage', `--from and the new data dir are the same directory (${source.path})`);
  }
  if (existsSync(target.keyFile) || existsSync(target.certFile)) {
    throw serverError(
      'data_dir_not_empty',
      `${target.path} already holds a certificate or key; a replica's data dir starts empty`,
    );
  }
  // COPYFILE_EXCL: never overwrite; the key gets its mode before a byte of it is readable.
  copyFileSync(source.keyFile, target.keyFile, constants.COPYFILE_EXCL);
  copyFileSync(source.certFile, target.certFile, constants.COPYFILE_EXCL);
  const certificate = loadOrCreateCertificate(target);
  return { dataDir: target, fingerprint: certificate.fingerprint };
}
