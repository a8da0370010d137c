// Certificate pinning: the edge trusts exactly one server certificate, named by the SHA-256 of
// its DER encoding, instead of any CA. The server's certificate is self-signed, so ordinary
// chain verification is switched off and replaced by this comparison, which must pass before
// any message is sent.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

export function fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** The pinned peer's fingerprint, or an error naming both fingerprints when it does not match. */
export function checkPin(socket: TLSSocket, pin: string): Error | null {
  const certificate = socket.getPeerCertificate();
  if (certificate === null || certificate.raw === undefined)
    return new Error('the server sent no certificate');
  const seen = fingerprint(certificate.raw);
  const expected = Buffer.from(pin, 'hex');
  const actual = Buffer.from(seen, 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return new Error(`server certificate fingerprint ${seen} does not match the pinned ${pin}`);
  }
  return null;
}
