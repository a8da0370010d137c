// Reads the PROXY header (v1 or v2) a load balancer in front sends before any payload. The
// caller buffers what has arrived and asks again as more comes in; the answer is 'incomplete'
// (wait), 'ok' (strip headerLength bytes; everything after them is payload) or 'invalid' (close).
//
// Strict on purpose: the header decides which client address the relay believes, so anything
// that is not exactly what the spec allows is rejected, and rejected as soon as the bytes
// already in hand prove it (a stream that starts like neither signature fails on its first
// byte; a v1 line fails at its first non-ASCII byte, bare CR or LF, or unknown protocol word).
//
// What the spec leaves to the receiver, decided here:
// - v1 "UNKNOWN" and v2 LOCAL, AF_UNSPEC and AF_UNIX give null addresses: the caller keeps the
//   real peer's. After "PROXY UNKNOWN " the rest of the line is ignored, as the spec says.
// - v2 TLVs are walked (each must fit inside the declared length) but not interpreted; a
//   CRC32C TLV is not verified. For LOCAL and AF_UNSPEC the block is skipped unread, since the
//   spec says to ignore it and its layout is unknown.
// - v2 family bytes other than the seven the spec defines are invalid, whatever the command.
// - v1 ports with leading zeros are invalid (the spec forbids them to avoid octal confusion).
// - Addresses come back in Node's spelling (see address.ts); an IPv4-mapped IPv6 address stays
//   mapped ("::ffff:1.2.3.4"), as remoteAddress shows it on a dual-stack socket.

import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv4, formatIPv6, ipv6Bytes, type ProxyEndpoint } from './address.ts';
import {
  V1_MAX_BYTES,
  V1_PREFIX,
  V2_ADDRESS_BYTES,
  V2_COMMAND_LOCAL,
  V2_COMMAND_PROXY,
  V2_FIXED_BYTES,
  V2_OFFSET_FAMILY,
  V2_OFFSET_LENGTH,
  V2_OFFSET_VERSION_COMMAND,
  V2_SIGNATURE,
  V2_TCP4,
  V2_TCP6,
  V2_TLV_HEADER_BYTES,
  V2_UDP4,
  V2_UDP6,
  V2_UNIX_DGRAM,
  V2_UNIX_STREAM,
  V2_UNSPEC,
  V2_VERSION,
} from './header-layout.ts';

/**
 * How many bytes the caller may buffer while waiting for a header; a v2 header declaring more
 * is invalid as soon as its length field arrives, so 'incomplete' never asks for more than this.
 *
 * The spec allows 16 + 65535, but what real senders put after the addresses is small: the
 * largest address block is 216 bytes (AF_UNIX) and the registered TLVs are short strings
 * (ALPN, authority/SNI up to 255, unique id up to 128, the SSL block with version, CN, cipher
 * and algorithm names, netns, a CRC32C) plus a few cloud ones (AWS VPC endpoint id, Azure
 * link id): together well under 1 KiB. 2 KiB of room keeps a safety margin over that while
 * bounding what one not-yet-identified peer can make a shard hold (a 64 KiB allowance would
 * let a few thousand slow peers pin hundreds of MiB). A v1 line is at most 107 bytes anyway.
 */
export const MAX_PROXY_HEADER_BYTES = V2_FIXED_BYTES + 2048;

export type ProxyParse =
  /** More bytes are needed; ask again when they arrive. */
  | { readonly kind: 'incomplete' }
  /**
   * A whole, valid header of `headerLength` bytes. `source`/`destination` are null when the
   * header carries no usable address (v1 UNKNOWN; v2 LOCAL, AF_UNSPEC or AF_UNIX): the caller
   * then uses the real connection's. `transport` is what v2 says the flow is (null when it does
   * not say); v1 only knows TCP.
   */
  | {
      readonly kind: 'ok';
      readonly version: 1 | 2;
      readonly headerLength: number;
      readonly command: 'proxy' | 'local';
      readonly transport: 'tcp' | 'udp' | null;
      readonly source: ProxyEndpoint | null;
      readonly destination: ProxyEndpoint | null;
    }
  /** Not a PROXY header, or a malformed one; `reason` names the field and what was wrong. */
  | { readonly kind: 'invalid'; readonly reason: string };

const INCOMPLETE: ProxyParse = Object.freeze({ kind: 'incomplete' });

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const V1_PROTOCOLS = ['TCP4', 'TCP6', 'UNKNOWN'];
const V1_FIELD_NAMES = [
  '"PROXY"',
  'protocol',
  'source address',
  'destination address',
  'source port',
  'destination port',
];
const V1_PORT = /^(?:0|[1-9][0-9]{0,4})$/;

function invalid(reason: string): ProxyParse {
  return { kind: 'invalid', reason };
}

/** Whether the first bytes of `buf` (as many as it has, up to the prefix's length) match `prefix`. */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.compare(prefix, 0, n, 0, n) === 0;
}

/** Parses the header at the start of `buf` (everything received so far on the connection). */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return INCOMPLETE;
  if (startsLike(buf, V2_SIGNATURE)) return parseV2(buf);
  if (startsLike(buf, V1_PREFIX)) return parseV1(buf);
  return invalid('the stream starts with neither a v1 ("PROXY ") nor a v2 signature');
}

// --- v1 ---

function parseV1(buf: Buffer): ProxyParse {
  const scanned = Math.min(buf.length, V1_MAX_BYTES);
  let lineEnd = -1;
  for (let i = V1_PREFIX.length; i < scanned; i++) {
    const byte = buf[i]!;
    if (byte === CR) {
      if (i + 2 > V1_MAX_BYTES) break; // its LF would be past the last byte allowed
      if (i + 1 === buf.length) break; // its LF has not arrived yet
      if (buf[i + 1] !== LF) return invalid(`v1: CR at offset ${i} is not followed by LF`);
      lineEnd = i;
      break;
    }
    if (byte === LF) return invalid(`v1: LF at offset ${i} without a CR before it`);
    if (byte < SPACE || byte > 0x7e)
      return invalid(
        `v1: byte 0x${byte.toString(16).padStart(2, '0')} at offset ${i} is not printable US-ASCII`,
      );
  }
  if (lineEnd < 0) {
    if (buf.length >= V1_MAX_BYTES) return invalid(`v1: no CRLF within the first ${V1_MAX_BYTES} bytes`);
    return v1ProtocolProblem(buf) ?? INCOMPLETE;
  }
  return parseV1Line(buf.toString('latin1', 0, lineEnd), lineEnd + 2);
}

/** Rejects a line early when the protocol word, complete or not, can be none of the allowed. */
function v1ProtocolProblem(buf: Buffer): ProxyParse | null {
  let end = V1_PREFIX.length;
  while (end < buf.length && buf[end] !== SPACE && buf[end] !== CR) end++;
  if (end === V1_PREFIX.length) return null; // nothing yet, or an empty field the line parse names
  const word = buf.toString('latin1', V1_PREFIX.length, end);
  const possible =
    end < buf.length ? V1_PROTOCOLS.includes(word) : V1_PROTOCOLS.some((p) => p.startsWith(word));
  return possible ? null : invalid(`v1: protocol "${word}" is not TCP4, TCP6 or UNKNOWN`);
}

function parseV1Line(line: string, headerLength: number): ProxyParse {
  const fields = line.split(' ');
  // "PROXY UNKNOWN" may be followed by anything up to the CRLF; the receiver ignores it.
  if (fields[1] === 'UNKNOWN')
    return {
      kind: 'ok',
      version: 1,
      headerLength,
      command: 'proxy',
      transport: null,
      source: null,
      destination: null,
    };
  const empty = fields.indexOf('');
  if (empty >= 0)
    return invalid(
      `v1: empty ${V1_FIELD_NAMES[empty] ?? 'field'} (fields are separated by exactly one space, none at the end)`,
    );
  const protocol = fields[1]!;
  if (protocol !== 'TCP4' && protocol !== 'TCP6')
    return invalid(`v1: protocol "${protocol}" is not TCP4, TCP6 or UNKNOWN`);
  if (fields.length !== 6)
    return invalid(
      `v1: ${protocol} needs 4 fields after it (addresses and ports), found ${fields.length - 2}`,
    );
  const source = v1Address(protocol, 'source', fields[2]!);
  if (typeof source !== 'string') return source;
  const destination = v1Address(protocol, 'destination', fields[3]!);
  if (typeof destination !== 'string') return destination;
  const sourcePort = v1Port('source', fields[4]!);
  if (typeof sourcePort !== 'number') return sourcePort;
  const destinationPort = v1Port('destination', fields[5]!);
  if (typeof destinationPort !== 'number') return destinationPort;
  return {
    kind: 'ok',
    version: 1,
    headerLength,
    command: 'proxy',
    transport: 'tcp',
    source: { address: source, port: sourcePort },
    destination: { address: destination, port: destinationPort },
  };
}

function v1Address(protocol: 'TCP4' | 'TCP6', side: string, text: string): string | ProxyParse {
  if (protocol === 'TCP4') {
    // isIPv4 takes exactly four decimal octets 0..255 without leading zeros, as the spec asks.
    return isIPv4(text) ? text : invalid(`v1: ${side} address "${text}" is not an IPv4 address (TCP4)`);
  }
  if (text.includes('%'))
    return invalid(`v1: ${side} address "${text}" has a zone, which a header cannot carry`);
  if (!isIPv6(text)) return invalid(`v1: ${side} address "${text}" is not an IPv6 address (TCP6)`);
  return formatIPv6(ipv6Bytes(text), 0);
}

function v1Port(side: string, text: string): number | ProxyParse {
  const port = V1_PORT.test(text) ? Number(text) : Number.NaN;
  if (port <= 0xffff) return port;
  return invalid(`v1: ${side} port "${text}" is not a decimal 0..65535 without sign or leading zeros`);
}

// --- v2 ---

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length <= V2_OFFSET_VERSION_COMMAND) return INCOMPLETE;
  const versionCommand = buf[V2_OFFSET_VERSION_COMMAND]!;
  const version = versionCommand >> 4;
  const command = versionCommand & 0x0f;
  if (version !== V2_VERSION) return invalid(`v2: version ${version} in the 13th byte, only 2 is defined`);
  if (command !== V2_COMMAND_LOCAL && command !== V2_COMMAND_PROXY)
    return invalid(`v2: command ${command} in the 13th byte is neither LOCAL (0) nor PROXY (1)`);

  if (buf.length <= V2_OFFSET_FAMILY) return INCOMPLETE;
  const family = buf[V2_OFFSET_FAMILY]!;
  const addressBytes = V2_ADDRESS_BYTES.get(family);
  if (addressBytes === undefined)
    return invalid(
      `v2: family/transport 0x${family.toString(16).padStart(2, '0')} in the 14th byte is not defined`,
    );

  if (buf.length <= V2_OFFSET_LENGTH) return INCOMPLETE;
  if (buf.length < V2_FIXED_BYTES) {
    // The high length byte alone may already put the header over the cap.
    const atLeast = buf[V2_OFFSET_LENGTH]! << 8;
    return V2_FIXED_BYTES + atLeast > MAX_PROXY_HEADER_BYTES ? tooLong(`at least ${atLeast}`) : INCOMPLETE;
  }
  const length = buf.readUInt16BE(V2_OFFSET_LENGTH);
  if (V2_FIXED_BYTES + length > MAX_PROXY_HEADER_BYTES) return tooLong(String(length));
  const headerLength = V2_FIXED_BYTES + length;
  if (buf.length < headerLength) return INCOMPLETE;

  if (command === V2_COMMAND_LOCAL || family === V2_UNSPEC)
    return {
      kind: 'ok',
      version: 2,
      headerLength,
      command: command === V2_COMMAND_LOCAL ? 'local' : 'proxy',
      transport: null,
      source: null,
      destination: null,
    };

  if (length < addressBytes)
    return invalid(
      `v2: ${familyName(family)} needs ${addressBytes} address bytes, the header declares ${length}`,
    );
  const tlvProblem = checkTlvs(buf, V2_FIXED_BYTES + addressBytes, headerLength);
  if (tlvProblem !== null) return invalid(tlvProblem);

  const transport = family === V2_TCP4 || family === V2_TCP6 || family === V2_UNIX_STREAM ? 'tcp' : 'udp';
  const proxied = { kind: 'ok', version: 2, headerLength, command: 'proxy', transport } as const;
  if (family === V2_UNIX_STREAM || family === V2_UNIX_DGRAM)
    return { ...proxied, source: null, destination: null };

  const ipv4 = family === V2_TCP4 || family === V2_UDP4;
  const size = ipv4 ? 4 : 16;
  const format = ipv4 ? formatIPv4 : formatIPv6;
  const ports = V2_FIXED_BYTES + 2 * size;
  return {
    ...proxied,
    source: { address: format(buf, V2_FIXED_BYTES), port: buf.readUInt16BE(ports) },
    destination: { address: format(buf, V2_FIXED_BYTES + size), port: buf.readUInt16BE(ports + 2) },
  };
}

function tooLong(length: string): ProxyParse {
  return invalid(
    `v2: header length ${length} (+${V2_FIXED_BYTES}) is over the ${MAX_PROXY_HEADER_BYTES}-byte limit`,
  );
}

/** Each TLV between `start` and `end` must have a whole type/length and fit before `end`. */
function checkTlvs(buf: Buffer, start: number, end: number): string | null {
  let offset = start;
  while (offset < end) {
    if (end - offset < V2_TLV_HEADER_BYTES)
      return `v2: ${end - offset} byte(s) at offset ${offset} after the addresses are too short for a TLV`;
    const type = buf[offset]!;
    const valueLength = buf.readUInt16BE(offset + 1);
    const left = end - offset - V2_TLV_HEADER_BYTES;
    if (valueLength > left)
      return `v2: TLV 0x${type.toString(16).padStart(2, '0')} at offset ${offset} declares ${valueLength} bytes, the header has ${left} left`;
    offset += V2_TLV_HEADER_BYTES + valueLength;
  }
  return null;
}

function familyName(family: number): string {
  switch (family) {
    case V2_TCP4:
      return 'TCP over IPv4';
    case V2_UDP4:
      return 'UDP over IPv4';
    case V2_TCP6:
      return 'TCP over IPv6';
    case V2_UDP6:
      return 'UDP over IPv6';
    case V2_UNIX_STREAM:
      return 'UNIX stream';
    default:
      return 'UNIX datagram';
  }
}
