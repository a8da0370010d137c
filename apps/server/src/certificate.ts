// The server's TLS identity: a self-signed certificate made on first start. Edges do not trust
// it through any CA; they pin its SHA-256 fingerprint, which the enrollment URI carries. So the
// certificate must never change under them: it is made once and kept, and its key is kept at
// mode 0600 (a key others can read is a server anyone on the host can impersonate, so the
// server refuses to start with one, rather than fixing the mode and hiding that it leaked).

import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fingerprint } from '@sluice/protocol';
import { generate } from 'selfsigned';
import type { DataDir } from './data-dir.ts';
import { serverError } from './errors.ts';

export interface ServerCertificate {
  readonly key: string;
  readonly cert: string;
  /** Lower-case hex SHA-256 of the DER certificate: the pin in enrollment URIs. */
  readonly fingerprint: string;
  /** True when this start made the certificate. */
  readonly created: boolean;
}

const VALID_DAYS = 3650;

function makeCertificate(): { key: string; cert: string } {
  const name = hostname();
  const pems = generate([{ name: 'commonName', value: name }], {
    keySize: 2048,
    days: VALID_DAYS,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: name },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** Refuses a key file that group or others may read or write. */
export function checkKeyMode(keyFile: string): void {
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw serverError(
      'key_insecure',
      `${keyFile} has mode ${mode.toString(8).padStart(4, '0')}; it must not be readable by group or others (chmod 600 ${keyFile})`,
    );
  }
}

export function loadOrCreateCertificate(dir: DataDir): ServerCertificate {
  const haveKey = existsSync(dir.keyFile);
  const haveCert = existsSync(dir.certFile);
  if (haveKey !== haveCert) {
    const missing = haveKey ? dir.certFile : dir.keyFile;
    throw serverError(
      'certificate_invalid',
      `${missing} is missing while its pair exists; restore it, or remove both to make a new certificate (enrolled edges must then be enrolled again)`,
    );
  }
  let created = false;
  if (!haveKey) {
    const made = makeCertificate();
    // 'wx': never overwrite a key another process made meanwhile; the mode is set at creation
    // so the key is never readable by others, not even for a moment.
    writeFileSync(dir.keyFile, made.key, { mode: 0o600, flag: 'wx' });
    writeFileSync(dir.certFile, made.cert, { mode: 0o644, flag: 'wx' });
    created = true;
  }
  checkKeyMode(dir.keyFile);
  let key: string;
  let cert: string;
  let der: Buffer;
  try {
    key = readFileSync(dir.keyFile, 'utf8');
    cert = readFileSync(dir.certFile, 'utf8');
    der = new X509Certificate(cert).raw;
  } catch (error) {
    throw serverError('certificate_invalid', `${dir.certFile}: ${(error as Error).message}`);
  }
  return { key, cert, fingerprint: fingerprint(der), created };
}
