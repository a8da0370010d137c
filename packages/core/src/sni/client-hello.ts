// Reads the server name (SNI) out of the first bytes a TLS client sends, without decrypting or
// changing anything: the caller buffers what arrived and asks again as more comes in. The
// ClientHello may be split over several TLS records (any sizes) and a record may arrive in
// pieces; both are handled by first joining the handshake bytes of whole records.
//
// Structure walked (RFC 8446 4.1.2, RFC 6066 3):
//   record:    type 22 (handshake) | version 3.x | length (1..2^14) | fragment
//   handshake: type 1 (ClientHello) | length (24 bit) | body
//   body:      version(2) random(32) session_id<0..32> cipher_suites<2..2^16-2>
//              compression_methods<1..2^8-1> [extensions<0..2^16-1>]
//   extension server_name (0): list<1..2^16-1> of { type 0 (host_name) | name<1..2^16-1> }

/** How many bytes the caller may buffer while looking for the ClientHello. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const MAX_RECORD_FRAGMENT = 1 << 14;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;
const MAX_HOST_NAME = 253;

export type ClientHelloResult =
  /** More bytes are needed; ask again when they arrive. */
  | { readonly kind: 'incomplete' }
  /** A whole ClientHello; serverName is null when it carries no SNI. Lower-cased, no trailing dot. */
  | { readonly kind: 'ok'; readonly serverName: string | null }
  /** Not a TLS ClientHello, or a malformed one; reason says where. */
  | { readonly kind: 'invalid'; readonly reason: string };

const INCOMPLETE: ClientHelloResult = Object.freeze({ kind: 'incomplete' });

function invalid(reason: string): ClientHelloResult {
  return { kind: 'invalid', reason };
}

class Malformed extends Error {}

/** A bounds-checked reader over the ClientHello body; any overrun is a malformed message. */
class Reader {
  private readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(buf: Buffer, offset: number, end: number) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get left(): number {
    return this.end - this.offset;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.offset += n;
  }

  /** A sub-reader over the next n bytes, which this reader then skips. */
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const inner = new Reader(this.buf, this.offset, this.offset + n);
    this.offset += n;
    return inner;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  private need(n: number, what: string): void {
    if (n > this.left) throw new Malformed(`${what} runs past its enclosing length`);
  }
}

/**
 * Looks for a complete ClientHello at the start of `data` (everything the client sent so far).
 * Never throws; never reads past `data`.
 */
export function parseClientHello(data: Buffer): ClientHelloResult {
  if (data.length > 0 && data[0] !== CONTENT_HANDSHAKE) {
    return invalid(`first byte 0x${data[0]!.toString(16).padStart(2, '0')} is not a TLS handshake record`);
  }
  // Join the fragments of whole records until the handshake message is complete.
  const fragments: Buffer[] = [];
  let joined = 0;
  let messageLength = -1;
  let offset = 0;
  while (messageLength < 0 || joined < HANDSHAKE_HEADER + messageLength) {
    if (data.length - offset < RECORD_HEADER) {
      return prefixProblem(data, offset) ?? INCOMPLETE;
    }
    const header = recordHeaderProblem(data, offset);
    if (header !== null) return invalid(header);
    const length = data.readUInt16BE(offset + 3);
    if (data.length - offset - RECORD_HEADER < length) return INCOMPLETE;
    fragments.push(data.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + length));
    joined += length;
    offset += RECORD_HEADER + length;
    if (messageLength < 0 && joined >= HANDSHAKE_HEADER) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) {
        return invalid(`handshake message type ${head[0]} is not ClientHello (1)`);
      }
      messageLength = head.readUIntBE(1, 3);
      if (HANDSHAKE_HEADER + messageLength + RECORD_HEADER > MAX_CLIENT_HELLO_BYTES) {
        return invalid(
          `ClientHello of ${messageLength} bytes is larger than ${MAX_CLIENT_HELLO_BYTES} bytes`,
        );
      }
    }
  }
  const message = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
  try {
    return {
      kind: 'ok',
      serverName: serverNameOf(new Reader(message, HANDSHAKE_HEADER, HANDSHAKE_HEADER + messageLength)),
    };
  } catch (error) {
    if (error instanceof Malformed) return invalid(error.message);
    throw error;
  }
}

/** What is wrong with the record header at `offset` (all 5 bytes present), or null. */
function recordHeaderProblem(data: Buffer, offset: number): string | null {
  const type = data[offset]!;
  if (type !== CONTENT_HANDSHAKE)
    return `record type ${type} where a handshake record (22) continues the ClientHello`;
  if (data[offset + 1] !== 3)
    return `record version ${data[offset + 1]}.${data[offset + 2]} is not TLS (3.x)`;
  const length = data.readUInt16BE(offset + 3);
  if (length === 0) return 'empty handshake record';
  if (length > MAX_RECORD_FRAGMENT)
    return `record length ${length} is over the TLS limit of ${MAX_RECORD_FRAGMENT}`;
  return null;
}

/** A partial record header that can already be ruled out, so junk is refused without waiting. */
function prefixProblem(data: Buffer, offset: number): ClientHelloResult | null {
  const have = data.length - offset;
  if (have >= 1 && data[offset] !== CONTENT_HANDSHAKE) {
    return invalid(`record type ${data[offset]} where a handshake record (22) continues the ClientHello`);
  }
  if (have >= 2 && data[offset + 1] !== 3) {
    return invalid(`record version ${data[offset + 1]}.x is not TLS (3.x)`);
  }
  return null;
}

function serverNameOf(body: Reader): string | null {
  body.skip(2, 'client_version');
  body.skip(32, 'random');
  const sessionId = body.u8('session_id length');
  if (sessionId > 32) throw new Malformed(`session_id of ${sessionId} bytes is over 32`);
  body.skip(sessionId, 'session_id');
  const suites = body.u16('cipher_suites length');
  if (suites < 2 || suites % 2 !== 0)
    throw new Malformed(`cipher_suites length ${suites} is not a positive even number`);
  body.skip(suites, 'cipher_suites');
  const compressions = body.u8('compression_methods length');
  if (compressions < 1) throw new Malformed('compression_methods is empty');
  body.skip(compressions, 'compression_methods');
  if (body.left === 0) return null; // no extensions at all (TLS 1.2 allows it)
  const extensions = body.sub(body.u16('extensions length'), 'extensions');
  if (body.left !== 0) throw new Malformed(`${body.left} bytes after the extensions`);
  let found: string | null = null;
  const seen = new Set<number>();
  while (extensions.left > 0) {
    const type = extensions.u16('extension type');
    const data = extensions.sub(extensions.u16('extension length'), `extension ${type}`);
    if (seen.has(type)) throw new Malformed(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXTENSION_SERVER_NAME) found = hostNameOf(data);
  }
  return found;
}

function hostNameOf(ext: Reader): string | null {
  if (ext.left === 0) return null; // a server's empty SNI echo; a client should not send it
  const list = ext.sub(ext.u16('server_name_list length'), 'server_name_list');
  if (ext.left !== 0) throw new Malformed('bytes after server_name_list');
  if (list.left === 0) throw new Malformed('server_name_list is empty');
  let host: string | null = null;
  while (list.left > 0) {
    const type = list.u8('server name type');
    const name = list.bytes(list.u16('server name length'), 'server name');
    if (type !== NAME_TYPE_HOST) continue; // other name types are not defined; skip them
    if (host !== null) throw new Malformed('more than one host_name in server_name');
    host = hostNameText(name);
  }
  return host;
}

function hostNameText(bytes: Buffer): string {
  if (bytes.length === 0) throw new Malformed('empty host_name');
  if (bytes.length > MAX_HOST_NAME + 1)
    throw new Malformed(`host_name of ${bytes.length} bytes is over ${MAX_HOST_NAME}`);
  for (const byte of bytes) {
    // Letters, digits, '-', '.', and '_' (seen in the wild in internal names).
    const ok =
      (byte >= 0x61 && byte <= 0x7a) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f;
    if (!ok)
      throw new Malformed(
        `host_name has byte 0x${byte.toString(16).padStart(2, '0')}, not a host name character`,
      );
  }
  const text = bytes.toString('latin1').toLowerCase();
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name === '' || name.startsWith('.') || name.includes('..'))
    throw new Malformed(`host_name "${text}" has an empty label`);
  return name;
}
