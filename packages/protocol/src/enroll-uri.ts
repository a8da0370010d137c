// The enrollment URI an operator hands to a new edge:
//   sluice://HOST:PORT[,HOST:PORT...]/enroll?pin=SHA256_HEX&code=CODE
// It carries everything the edge needs to reach the server safely: where (every replica's
// control address, tried in order), the server certificate's SHA-256 fingerprint to pin (the
// replicas share the certificate), and the one-time code.
//
// The authority is split by hand: WHATWG URL takes one host, not a comma list. The rest (path
// and query) still goes through URL, so its decoding is the standard one.

import { isIPv6 } from 'node:net';
import {
  type ControlAddress,
  formatControlAddress,
  MAX_CONTROL_ADDRESSES,
  sameControlAddress,
} from './control-address.ts';

export interface EnrollTarget {
  /** Every replica's control address, in the order to try them; 1..MAX_CONTROL_ADDRESSES. */
  readonly servers: readonly ControlAddress[];
  /** Lower-case hex SHA-256 of the server certificate (DER), 64 characters. */
  readonly pin: string;
  readonly code: string;
}

const PIN = /^[0-9a-f]{64}$/;
const CODE = /^[A-Za-z0-9_-]{8,128}$/;
const URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const NAME = /^[A-Za-z0-9._-]{1,253}$/;
const EXPECTED = 'sluice://HOST:PORT[,HOST:PORT...]/enroll?pin=...&code=...';

/** Throws RangeError for a list no parser would take back (none, or too many). */
export function formatEnrollUri(target: EnrollTarget): string {
  const count = target.servers.length;
  if (count < 1 || count > MAX_CONTROL_ADDRESSES)
    throw new RangeError(`${count} server addresses; an enrollment URI takes 1..${MAX_CONTROL_ADDRESSES}`);
  const servers = target.servers.map(formatControlAddress).join(',');
  return `sluice://${servers}/enroll?pin=${target.pin}&code=${target.code}`;
}

/** Parses an enrollment URI; throws RangeError naming what is wrong (and which address). */
export function parseEnrollUri(text: string): EnrollTarget {
  const match = URI.exec(text.trim());
  if (!match) throw new RangeError(`"${text}" is not a URI; expected ${EXPECTED}`);
  const [, scheme = '', authority = '', rest = ''] = match;
  if (scheme.toLowerCase() !== 'sluice') throw new RangeError(`scheme "${scheme}:" is not "sluice:"`);
  let url: URL;
  try {
    url = new URL(`sluice://host${rest}`);
  } catch {
    throw new RangeError(`"${text}" is not a URI; expected ${EXPECTED}`);
  }
  if (url.pathname !== '/enroll') throw new RangeError(`path "${url.pathname}" is not "/enroll"`);
  const servers = parseServers(authority);
  const pin = (url.searchParams.get('pin') ?? '').toLowerCase();
  if (!PIN.test(pin)) throw new RangeError('pin is not a SHA-256 fingerprint (64 hex digits)');
  const code = url.searchParams.get('code') ?? '';
  if (!CODE.test(code)) throw new RangeError('code is missing or malformed');
  return { servers, pin, code };
}

function parseServers(authority: string): ControlAddress[] {
  if (authority === '') throw new RangeError('the URI has no server address');
  const parts = authority.split(',');
  if (parts.length > MAX_CONTROL_ADDRESSES)
    throw new RangeError(`${parts.length} server addresses; at most ${MAX_CONTROL_ADDRESSES}`);
  const servers: ControlAddress[] = [];
  parts.forEach((part, i) => {
    const address = parseAddress(part, `address ${i + 1}`);
    const earlier = servers.findIndex((seen) => sameControlAddress(seen, address));
    if (earlier >= 0) throw new RangeError(`address ${i + 1} "${part}" repeats address ${earlier + 1}`);
    servers.push(address);
  });
  return servers;
}

function parseAddress(part: string, where: string): ControlAddress {
  if (part === '') throw new RangeError(`${where} is empty`);
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(part);
  let host: string;
  let port: string | undefined;
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2];
    if (!isIPv6(host)) throw new RangeError(`${where} "${part}": "${host}" is not an IPv6 address`);
  } else {
    const colon = part.indexOf(':');
    host = colon < 0 ? part : part.slice(0, colon);
    port = colon < 0 ? undefined : part.slice(colon + 1);
    if (port?.includes(':'))
      throw new RangeError(`${where} "${part}": an IPv6 address goes in brackets, [HOST]:PORT`);
    if (host === '') throw new RangeError(`${where} "${part}" has no host`);
    if (!NAME.test(host)) throw new RangeError(`${where} "${part}": "${host}" is not a host name or address`);
  }
  if (port === undefined || port === '')
    throw new RangeError(`${where} "${part}" has no port; expected HOST:PORT`);
  const number = /^[0-9]{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!(number >= 1 && number <= 65535))
    throw new RangeError(`${where} "${part}": port "${port}" is not 1..65535`);
  return { host, port: number };
}
