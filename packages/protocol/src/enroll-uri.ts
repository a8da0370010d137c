// The enrollment URI an operator hands to a new edge:
//   sluice://HOST:PORT/enroll?pin=SHA256_HEX&code=CODE
// It carries everything the edge needs to reach the server safely: where, the server
// certificate's SHA-256 fingerprint to pin, and the one-time code.

import { isIPv6 } from 'node:net';

export interface EnrollTarget {
  readonly host: string;
  readonly port: number;
  /** Lower-case hex SHA-256 of the server certificate (DER), 64 characters. */
  readonly pin: string;
  readonly code: string;
}

const PIN = /^[0-9a-f]{64}$/;
const CODE = /^[A-Za-z0-9_-]{8,128}$/;

export function formatEnrollUri(target: EnrollTarget): string {
  const host = isIPv6(target.host) ? `[${target.host}]` : target.host;
  return `sluice://${host}:${target.port}/enroll?pin=${target.pin}&code=${target.code}`;
}

/** Parses an enrollment URI; throws RangeError naming what is wrong. */
export function parseEnrollUri(text: string): EnrollTarget {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RangeError(`"${text}" is not a URI; expected sluice://HOST:PORT/enroll?pin=...&code=...`);
  }
  if (url.protocol !== 'sluice:') throw new RangeError(`scheme "${url.protocol}" is not "sluice:"`);
  if (url.pathname !== '/enroll') throw new RangeError(`path "${url.pathname}" is not "/enroll"`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new RangeError('the URI has no server host');
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RangeError(`port "${url.port}" is not 1..65535`);
  const pin = (url.searchParams.get('pin') ?? '').toLowerCase();
  if (!PIN.test(pin)) throw new RangeError('pin is not a SHA-256 fingerprint (64 hex digits)');
  const code = url.searchParams.get('code') ?? '';
  if (!CODE.test(code)) throw new RangeError('code is missing or malformed');
  return { host, port, pin, code };
}
