// An endpoint of a PROXY header and the conversions between address text and the network-order
// bytes a v2 header carries. Text going out of the decoder is Node's own spelling (SocketAddress
// formats through inet_ntop, as remoteAddress does), so a decoded address compares equal to the
// remoteAddress of a socket from that host: lower case, zeros compressed, "::ffff:1.2.3.4" for
// an IPv4-mapped address.

import { isIPv4, isIPv6, SocketAddress } from 'node:net';

/** One side of a connection as a PROXY header carries it. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

/** The 4 bytes of a dotted-quad IPv4 address; the caller has checked it with isIPv4. */
export function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/**
 * The 16 bytes of an IPv6 address; the caller has checked it with isIPv6. A zone ("%eth0") is
 * dropped: it names an interface of this host and has no place in a header.
 */
export function ipv6Bytes(text: string): Buffer {
  let hex = text;
  const zone = hex.indexOf('%');
  if (zone >= 0) hex = hex.slice(0, zone);
  // A dotted IPv4 tail ("::ffff:1.2.3.4") becomes its two 16-bit groups.
  const lastColon = hex.lastIndexOf(':');
  if (hex.includes('.', lastColon)) {
    const [a, b, c, d] = ipv4Bytes(hex.slice(lastColon + 1));
    hex = `${hex.slice(0, lastColon + 1)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const halves = hex.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':');
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => {
    out.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  });
  return out;
}

/** Dotted-quad text of the 4 bytes at `offset`. */
export function formatIPv4(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Node's text for the 16 bytes at `offset`. */
export function formatIPv6(buf: Buffer, offset: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(offset + i).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** Whether 16 address bytes are an IPv4-mapped IPv6 address (::ffff:0:0/96). */
export function isMappedIPv4(bytes: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** The IPv4-mapped IPv6 form (::ffff:a.b.c.d) of 4 IPv4 bytes. */
export function mapIPv4(bytes: Buffer): Buffer {
  const out = Buffer.alloc(16);
  out[10] = 0xff;
  out[11] = 0xff;
  bytes.copy(out, 12);
  return out;
}

/** A textual address read as bytes: 4 for IPv4, 16 for IPv6; null when it is neither. */
export function addressBytes(text: string): Buffer | null {
  if (isIPv4(text)) return ipv4Bytes(text);
  if (isIPv6(text)) return ipv6Bytes(text);
  return null;
}
