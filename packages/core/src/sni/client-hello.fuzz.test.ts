// Fuzzing the ClientHello parser. ClientHellos built here from their parts (any host name, any
// other extensions, any split into records) must give their name back; each of their strict
// prefixes must ask for more; an inner length that overruns its container must be refused
// (the bounds checks); and any bytes at all must give a verdict without throwing, a verdict
// that bytes arriving later do not change.

import { join } from 'node:path';
import { BYTES_CODEC, fuzz } from '@sluice/test-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello.ts';

const CORPUS = join(import.meta.dirname, 'corpus', 'fuzz');

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const vec16 = (body: Buffer) => Buffer.concat([u16(body.length), body]);

interface Hello {
  readonly host: string | null;
  readonly sessionId: Buffer;
  readonly suites: number;
  readonly before: readonly Extension[];
  readonly after: readonly Extension[];
}

interface Extension {
  readonly type: number;
  readonly data: Buffer;
}

/** Where each inner length of a built ClientHello sits, to overrun it. */
interface Built {
  readonly message: Buffer;
  /** Offsets (in the message) of length fields whose container ends where the message ends. */
  readonly lastLengths: readonly { readonly at: number; readonly bytes: 2 }[];
}

function sniExtension(host: string): Buffer {
  const name = Buffer.from(host, 'latin1');
  const entry = Buffer.concat([u8(0), vec16(name)]);
  return Buffer.concat([u16(0), vec16(vec16(entry))]);
}

function build(hello: Hello): Built {
  const ext = (e: Extension) => Buffer.concat([u16(e.type), vec16(e.data)]);
  const parts = [...hello.before.map(ext)];
  const sni = hello.host === null ? null : sniExtension(hello.host);
  const afterSni = hello.after.map(ext);
  const extensions = Buffer.concat([...parts, ...(sni === null ? [] : [sni]), ...afterSni]);
  const head = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 7),
    u8(hello.sessionId.length),
    hello.sessionId,
    vec16(Buffer.alloc(hello.suites * 2, 0x13)),
    u8(1),
    u8(0),
  ]);
  const body = Buffer.concat([head, vec16(extensions)]);
  const message = Buffer.concat([u8(1), u24(body.length), body]);
  const lastLengths: { at: number; bytes: 2 }[] = [{ at: 4 + head.length, bytes: 2 }];
  if (sni !== null && afterSni.length === 0) {
    // The SNI extension is the last: its length, its list's and its name's all end at the end.
    const sniAt = 4 + head.length + 2 + Buffer.concat(parts).length;
    lastLengths.push({ at: sniAt + 2, bytes: 2 }, { at: sniAt + 4, bytes: 2 }, { at: sniAt + 7, bytes: 2 });
  } else if (extensions.length > 0) {
    const last = hello.after.at(-1) ?? hello.before.at(-1);
    if (last !== undefined) lastLengths.push({ at: message.length - last.data.length - 2, bytes: 2 });
  }
  return { message, lastLengths };
}

/** The handshake message in TLS records of the given fragment sizes (the last takes the rest). */
function records(message: Buffer, sizes: readonly number[]): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (const size of [...sizes, message.length]) {
    if (offset >= message.length) break;
    const fragment = message.subarray(offset, Math.min(message.length, offset + Math.min(size, 1 << 14)));
    out.push(Buffer.concat([u8(22), u8(3), u8(1), u16(fragment.length), fragment]));
    offset += fragment.length;
  }
  return Buffer.concat(out);
}

const label = fc.stringMatching(/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,20}[A-Za-z0-9_])?$/);
const hostName = fc
  .array(label, { minLength: 1, maxLength: 5 })
  .map((labels) => labels.join('.'))
  .filter((name) => name.length <= 253);
const otherExtension: fc.Arbitrary<Extension> = fc.record({
  type: fc.integer({ min: 1, max: 0xffff }),
  data: fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a)),
});
const uniqueExtensions = fc.uniqueArray(otherExtension, { maxLength: 6, selector: (e) => e.type });
const helloArb: fc.Arbitrary<Hello> = fc
  .record({
    host: fc.option(hostName, { nil: null }),
    sessionId: fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)),
    suites: fc.integer({ min: 1, max: 40 }),
    extensions: uniqueExtensions,
    split: fc.nat(6),
  })
  .map(({ host, sessionId, suites, extensions, split }) => ({
    host,
    sessionId,
    suites,
    before: extensions.slice(0, Math.min(split, extensions.length)),
    after: extensions.slice(Math.min(split, extensions.length)),
  }));
const splits = fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 });

describe('parseClientHello under fuzzing', () => {
  it('gives back the host name of any built ClientHello, in any records, with bytes after it', async () => {
    await fuzz({
      corpus: join(CORPUS, 'round-trip.hex'),
      arbitrary: fc.tuple(helloArb, splits, fc.uint8Array({ maxLength: 40 })).map(([hello, sizes, tail]) => ({
        hello,
        bytes: Buffer.concat([records(build(hello).message, sizes), tail]),
      })),
      codec: {
        encode: ({ hello, bytes }) => JSON.stringify({ host: hello.host, bytes: bytes.toString('hex') }),
        decode: (line) => {
          const { host, bytes } = JSON.parse(line) as { host: string | null; bytes: string };
          return {
            hello: { host, sessionId: Buffer.alloc(0), suites: 1, before: [], after: [] },
            bytes: Buffer.from(bytes, 'hex'),
          };
        },
      },
      check: ({ hello, bytes }) => {
        expect(parseClientHello(bytes)).toEqual({
          kind: 'ok',
          serverName: hello.host?.toLowerCase() ?? null,
        });
      },
    });
  });

  it('asks for more on every strict prefix of a built ClientHello', async () => {
    await fuzz({
      corpus: join(CORPUS, 'prefix.hex'),
      arbitrary: fc
        .tuple(helloArb, splits, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }))
        .map(([hello, sizes, cut]) => {
          const bytes = records(build(hello).message, sizes);
          return bytes.subarray(0, Math.floor(bytes.length * cut));
        }),
      codec: BYTES_CODEC,
      check: (prefix) => {
        expect(parseClientHello(prefix)).toEqual({ kind: 'incomplete' });
      },
    });
  });

  it('refuses a ClientHello whose innermost length runs past its container', async () => {
    await fuzz({
      corpus: join(CORPUS, 'overrun.hex'),
      arbitrary: fc.tuple(helloArb, fc.nat(), fc.integer({ min: 1, max: 300 })).map(([hello, pick, by]) => {
        const { message, lastLengths } = build(hello);
        const field = lastLengths[pick % lastLengths.length]!;
        const forged = Buffer.from(message);
        forged.writeUInt16BE(Math.min(0xffff, forged.readUInt16BE(field.at) + by), field.at);
        return records(forged, []);
      }),
      codec: BYTES_CODEC,
      check: (bytes) => {
        const result = parseClientHello(bytes);
        expect(result.kind).toBe('invalid');
        expect(result.kind === 'invalid' && result.reason).toMatch(/runs past its enclosing length/);
      },
    });
  });

  it('gives any bytes a verdict without throwing, which later bytes do not overturn', async () => {
    // Half the inputs start like a handshake record, so they get past the first byte.
    const start = fc.constantFrom(
      Buffer.alloc(0),
      Buffer.from([22, 3, 1]),
      Buffer.from([22, 3, 3, 0, 80, 1]),
    );
    await fuzz({
      corpus: join(CORPUS, 'any-bytes.hex'),
      arbitrary: fc
        .tuple(start, fc.uint8Array({ maxLength: 400 }))
        .map(([head, rest]) => Buffer.concat([head, Buffer.from(rest)])),
      codec: BYTES_CODEC,
      check: (bytes) => {
        const verdict = parseClientHello(bytes);
        const later = parseClientHello(Buffer.concat([bytes, Buffer.from('more bytes')]));
        // A refusal may be worded from more of the header once more is in; it stays a refusal.
        if (verdict.kind === 'ok') expect(later).toEqual(verdict);
        if (verdict.kind === 'invalid') expect(later.kind).toBe('invalid');
      },
    });
  });

  it('refuses a ClientHello larger than the buffer limit from its length alone', () => {
    const huge = Buffer.concat([u8(22), u8(3), u8(1), u16(4), u8(1), u24(MAX_CLIENT_HELLO_BYTES)]);
    expect(parseClientHello(huge).kind).toBe('invalid');
  });
});
