import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { thrownCode } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { loadOrCreateCertificate } from './certificate.ts';
import { openDataDir } from './data-dir.ts';
import { prepareReplicaDir } from './replica-dir.ts';
import { tempDirEachTest } from './test-harness.ts';

let root: string;

tempDirEachTest('sluice-replica-dir-', (made) => {
  root = made;
});

describe('prepare-replica', () => {
  it('gives the new data dir the same certificate and key, the key at 0600 in a 0700 dir', () => {
    const first = openDataDir(join(root, 'a'), { create: true });
    const made = loadOrCreateCertificate(first);
    const prepared = prepareReplicaDir(first.path, join(root, 'b'));
    expect(prepared.fingerprint).toBe(made.fingerprint);
    expect(statSync(prepared.dataDir.path).mode & 0o777).toBe(0o700);
    expect(statSync(prepared.dataDir.keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(prepared.dataDir.keyFile, 'utf8')).toBe(made.key);
    // The replica starts on it without making a certificate of its own.
    expect(loadOrCreateCertificate(prepared.dataDir)).toMatchObject({
      created: false,
      fingerprint: made.fingerprint,
    });
  });

  it('refuses a source that has no certificate yet, and a target that has one', () => {
    const empty = openDataDir(join(root, 'empty'), { create: true });
    expect(thrownCode(() => prepareReplicaDir(empty.path, join(root, 'b')))).toBe('certificate_invalid');
    const first = openDataDir(join(root, 'a'), { create: true });
    loadOrCreateCertificate(first);
    const other = openDataDir(join(root, 'c'), { create: true });
    writeFileSync(other.certFile, 'x');
    expect(thrownCode(() => prepareReplicaDir(first.path, other.path))).toBe('data_dir_not_empty');
    expect(readFileSync(other.certFile, 'utf8')).toBe('x');
    expect(thrownCode(() => prepareReplicaDir(first.path, first.path))).toBe('usage');
  });

  it('refuses a source key that others can read', () => {
    const first = openDataDir(join(root, 'a'), { create: true });
    loadOrCreateCertificate(first);
    chmodSync(first.keyFile, 0o644);
    expect(thrownCode(() => prepareReplicaDir(first.path, join(root, 'b')))).toBe('key_insecure');
  });
});
