// A tiny authoritative DNS server on loopback UDP for tests: answers A and AAAA questions from a
// zone held in memory, so code that resolves target names meets a real resolver (c-ares, through
// node:dns) without any network. Hand-encoded (RFC 1035 section 4) to keep the dependency list
// short; it understands one question per query, which is all a stub resolver sends.

import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

/** What the responder does for one name. */
export type DnsZoneEntry =
  | { readonly a?: readonly string[]; readonly aaaa?: readonly string[]; readonly ttl?: number }
  /** Answer SERVFAIL (rcode 2). */
  | 'servfail'
  /** Never answer, so the client times out. */
  | 'drop';

export interface DnsQuestion {
  readonly name: string;
  readonly type: 'A' | 'AAAA' | number;
}

export interface DnsResponder {
  /** `127.0.0.1:PORT`, the form Resolver.setServers() takes. */
  readonly server: string;
  readonly port: number;
  /** Every question received, in order. */
  readonly questions: DnsQuestion[];
  /** Adds, replaces or (with null) removes a name; a name not in the zone answers NXDOMAIN. */
  set(name: string, entry: DnsZoneEntry | null): void;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const DEFAULT_TTL = 60;

export async function startDnsResponder(
  zone: Readonly<Record<string, DnsZoneEntry>> = {},
): Promise<DnsResponder> {
  const names = new Map<string, DnsZoneEntry>();
  for (const [name, entry] of Object.entries(zone)) names.set(canonical(name), entry);
  const questions: DnsQuestion[] = [];
  const socket: Socket = createSocket('udp4');

  socket.on('message', (query, peer) => {
    const parsed = parseQuery(query);
    if (parsed === null) return; // not a query we understand: a real server would say FORMERR
    const { name, qtype, questionEnd } = parsed;
    questions.push({ name, type: qtype === TYPE_A ? 'A' : qtype === TYPE_AAAA ? 'AAAA' : qtype });
    const entry = names.get(canonical(name));
    if (entry === 'drop') return;
    let rcode = 0;
    let answers: Buffer[] = [];
    if (entry === undefined) rcode = RCODE_NXDOMAIN;
    else if (entry === 'servfail') rcode = RCODE_SERVFAIL;
    else if (qtype === TYPE_A)
      answers = (entry.a ?? []).map((ip) => answerRecord(TYPE_A, entry.ttl, ipv4Bytes(ip)));
    else if (qtype === TYPE_AAAA)
      answers = (entry.aaaa ?? []).map((ip) => answerRecord(TYPE_AAAA, entry.ttl, ipv6Bytes(ip)));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // same id
    // QR=1, opcode 0, AA=1, RD copied from the query, RA=1, then the rcode.
    header.writeUInt16BE(0x8000 | 0x0400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    // The question is copied byte for byte, so its case (DNS 0x20) matches what was asked.
    const response = Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
    socket.send(response, peer.port, peer.address);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.removeListener('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;

  return {
    server: `127.0.0.1:${port}`,
    port,
    questions,
    set(name, entry) {
      if (entry === null) names.delete(canonical(name));
      else names.set(canonical(name), entry);
    },
    close() {
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The question of a standard query, or null when the packet is not one. */
function parseQuery(packet: Buffer): { name: string; qtype: number; questionEnd: number } | null {
  if (packet.length < 12) return null;
  const flags = packet.readUInt16BE(2);
  if ((flags & 0x8000) !== 0 || (flags & 0x7800) !== 0) return null; // a response, or not QUERY
  if (packet.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = packet[offset];
    if (length === undefined || length > 63) return null; // truncated, or a compression pointer
    offset += 1;
    if (length === 0) break;
    if (offset + length > packet.length) return null;
    labels.push(packet.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > packet.length) return null;
  const qtype = packet.readUInt16BE(offset);
  if (packet.readUInt16BE(offset + 2) !== CLASS_IN) return null;
  return { name: labels.join('.'), qtype, questionEnd: offset + 4 };
}

function answerRecord(type: number, ttl: number | undefined, rdata: Buffer): Buffer {
  const record = Buffer.alloc(12 + rdata.length);
  record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's, at offset 12
  record.writeUInt16BE(type, 2);
  record.writeUInt16BE(CLASS_IN, 4);
  record.writeUInt32BE(ttl ?? DEFAULT_TTL, 6);
  record.writeUInt16BE(rdata.length, 10);
  rdata.copy(record, 12);
  return record;
}

function ipv4Bytes(ip: string): Buffer {
  if (!isIPv4(ip)) throw new Error(`dns responder: ${ip} is not an IPv4 address`);
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  if (!isIPv6(ip) || ip.includes('.')) throw new Error(`dns responder: ${ip} is not a plain IPv6 address`);
  const [head = '', tail] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  return bytes;
}
