// Tokens, enrollment codes and edge secrets: random, URL-safe, and stored only as their
// SHA-256. They carry 192..256 bits of randomness, so a plain hash (no salt, no stretching) is
// enough: there is nothing to guess, and a fast hash lets a token be looked up by its hash.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** Short random ids for rows (edges, rules): unguessable enough, short enough to type. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a secret with a stored hash in constant time. */
export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
