import { X509Certificate } from 'node:crypto';
import { chmodSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { thrownCode } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { checkKeyMode, loadOrCreateCertificate } from './certificate.ts';
import { openDataDir } from './data-dir.ts';
import { tempDirEachTest } from './test-harness.ts';

let root: string;

tempDirEachTest('sluice-cert-', (made) => {
  root = made;
});

describe('server certificate', () => {
  it('is made once, self-signed for the host name and loopback, with its key at 0600 in a 0700 dir', () => {
    const dir = openDataDir(join(root, 'data'), { create: true });
    expect(statSync(dir.path).mode & 0o777).toBe(0o700);
    const made = loadOrCreateCertificate(dir);
    expect(made.created).toBe(true);
    expect(statSync(dir.keyFile).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(made.cert);
    expect(x509.subject).toBe(`CN=${hostname()}`);
    expect(x509.subjectAltName).toBe(
      `DNS:${hostname()}, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`,
    );
    expect(x509.verify(x509.publicKey)).toBe(true);
    const again = loadOrCreateCertificate(dir);
    expect(again).toMatchObject({ created: false, fingerprint: made.fingerprint });
  });

  it('refuses a key readable by group or others with key_insecure', () => {
    const dir = openDataDir(join(root, 'data'), { create: true });
    loadOrCreateCertificate(dir);
    for (const mode of [0o640, 0o604, 0o660]) {
      chmodSync(dir.keyFile, mode);
      expect(thrownCode(() => loadOrCreateCertificate(dir))).toBe('key_insecure');
    }
    chmodSync(dir.keyFile, 0o400);
    expect(() => checkKeyMode(dir.keyFile)).not.toThrow();
  });

  it('refuses half a pair instead of making a new certificate edges would not know', () => {
    const dir = openDataDir(join(root, 'data'), { create: true });
    loadOrCreateCertificate(dir);
    rmSync(dir.certFile);
    expect(thrownCode(() => loadOrCreateCertificate(dir))).toBe('certificate_invalid');
  });

  it('names a data dir that is not a directory', () => {
    expect(thrownCode(() => openDataDir(join(root, 'missing'), { create: false }))).toBe('data_dir_unusable');
  });
});
