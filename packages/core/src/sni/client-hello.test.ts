import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ClientHelloResult, MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello.ts';
import { SniRouter } from './sni-router.ts';

const CORPUS = join(import.meta.dirname, 'corpus');
const expected = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as Record<
  string,
  { serverName?: string | null; invalid?: boolean }
>;
const corpus = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.bin'))
  .sort()
  .map((file) => ({ file, bytes: readFileSync(join(CORPUS, file)), want: expected[file]! }));
const tlsCorpus = corpus.filter((c) => c.want.invalid !== true);

/** A small seeded PRNG so every fuzz run is the same run. */
function prng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % n;
  };
}

/** The handshake message of a single-record capture (what the records carry). */
function handshakeOf(bytes: Buffer): Buffer {
  const length = bytes.readUInt16BE(3);
  return bytes.subarray(5, 5 + length);
}

/** Re-frames a handshake message into records of the given sizes (the last takes the rest). */
function records(message: Buffer, sizes: number[]): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < message.length; i++) {
    const size = Math.min(sizes[i] ?? message.length, message.length - offset);
    const header = Buffer.from([22, 3, 1, 0, 0]);
    header.writeUInt16BE(size, 3);
    out.push(header, message.subarray(offset, offset + size));
    offset += size;
  }
  return Buffer.concat(out);
}

interface HelloParts {
  sessionId?: number;
  suites?: Buffer;
  compressions?: Buffer;
  /** Raw extensions block contents; built from `names` when absent. */
  extensions?: Buffer | null;
  names?: { type: number; name: Buffer }[];
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function sniExtension(names: { type: number; name: Buffer }[]): Buffer {
  const list = Buffer.concat(
    names.map((n) => Buffer.concat([Buffer.from([n.type]), u16(n.name.length), n.name])),
  );
  const data = Buffer.concat([u16(list.length), list]);
  return Buffer.concat([u16(0), u16(data.length), data]);
}

/** A ClientHello built by hand, in one record, for the malformed cases. */
function hello(parts: HelloParts): Buffer {
  const sessionId = parts.sessionId ?? 0;
  const suites = parts.suites ?? Buffer.from([0x13, 0x01]);
  const compressions = parts.compressions ?? Buffer.from([0]);
  const extensions =
    parts.extensions === undefined
      ? sniExtension(parts.names ?? [{ type: 0, name: Buffer.from('example.com') }])
      : parts.extensions;
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    Buffer.from([sessionId]),
    Buffer.alloc(Math.min(sessionId, 255)),
    u16(suites.length),
    suites,
    Buffer.from([compressions.length]),
    compressions,
    extensions === null ? Buffer.alloc(0) : Buffer.concat([u16(extensions.length), extensions]),
  ]);
  const header = Buffer.from([1, 0, 0, 0]);
  header.writeUIntBE(body.length, 1, 3);
  return records(Buffer.concat([header, body]), []);
}

describe('parseClientHello on real first flights', () => {
  it('has a corpus of TLS 1.2 and 1.3 ClientHellos from two clients, with and without SNI', () => {
    expect(tlsCorpus.length).toBeGreaterThanOrEqual(6);
  });

  for (const { file, bytes, want } of corpus) {
    it(`${file}: ${want.invalid ? 'refused' : `server name ${want.serverName}`}`, () => {
      const result = parseClientHello(bytes);
      if (want.invalid) expect(result.kind).toBe('invalid');
      else expect(result).toEqual({ kind: 'ok', serverName: want.serverName });
    });
  }

  it('says incomplete for every proper prefix of a ClientHello, and never more', () => {
    for (const { bytes } of tlsCorpus) {
      for (let n = 0; n < bytes.length; n++) {
        const result = parseClientHello(bytes.subarray(0, n));
        if (result.kind !== 'incomplete')
          throw new Error(`prefix of ${n} bytes gave ${JSON.stringify(result)}`);
      }
    }
  });

  it('reads the same name from the ClientHello fragmented over records of any size, with payload after', () => {
    const random = prng(42);
    for (const { bytes, want } of tlsCorpus) {
      const message = handshakeOf(bytes);
      for (let round = 0; round < 200; round++) {
        const sizes = Array.from({ length: 64 }, () => 1 + random(round % 2 === 0 ? 16 : 600));
        const framed = records(message, sizes);
        const trailing = Buffer.concat([framed, Buffer.from([23, 3, 3, 0, 5, 1, 2, 3, 4, 5])]);
        expect(parseClientHello(framed)).toEqual({ kind: 'ok', serverName: want.serverName });
        expect(parseClientHello(trailing)).toEqual({ kind: 'ok', serverName: want.serverName });
        const cut = 1 + random(framed.length - 1);
        expect(parseClientHello(framed.subarray(0, cut)).kind).toBe('incomplete');
      }
    }
  });
});

describe('parseClientHello on malformed input', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['an application-data record first', Buffer.from([23, 3, 3, 0, 1, 0]), /not a TLS handshake record/],
    ['a record version that is not 3.x', Buffer.from([22, 2, 0, 0, 1, 1]), /not TLS/],
    ['an empty record', Buffer.from([22, 3, 1, 0, 0]), /empty handshake record/],
    ['a record over 16 KiB', Buffer.from([22, 3, 1, 0x40, 0x01]), /over the TLS limit/],
    ['a ServerHello', Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0]), /not ClientHello/],
    ['a session id over 32 bytes', hello({ sessionId: 33 }), /session_id of 33 bytes/],
    [
      'an odd cipher_suites length',
      hello({ suites: Buffer.from([0x13, 0x01, 0x13]) }),
      /cipher_suites length 3/,
    ],
    ['no compression methods', hello({ compressions: Buffer.alloc(0) }), /compression_methods is empty/],
    [
      'two host names',
      hello({
        names: [
          { type: 0, name: Buffer.from('a.com') },
          { type: 0, name: Buffer.from('b.com') },
        ],
      }),
      /more than one host_name/,
    ],
    ['a host name with a space', hello({ names: [{ type: 0, name: Buffer.from('a b.com') }] }), /byte 0x20/],
    [
      'a host name with an empty label',
      hello({ names: [{ type: 0, name: Buffer.from('a..com') }] }),
      /empty label/,
    ],
    [
      'the server_name extension twice',
      hello({
        extensions: Buffer.concat([
          sniExtension([{ type: 0, name: Buffer.from('a.com') }]),
          sniExtension([{ type: 0, name: Buffer.from('a.com') }]),
        ]),
      }),
      /appears twice/,
    ],
    [
      'an extension running past the extensions block',
      hello({ extensions: Buffer.from([0, 10, 0, 50, 1, 2]) }),
      /runs past its enclosing length/,
    ],
  ];
  for (const [what, bytes, reason] of cases) {
    it(`refuses ${what}, saying why`, () => {
      const result = parseClientHello(bytes);
      expect(result.kind).toBe('invalid');
      expect((result as { reason: string }).reason).toMatch(reason);
    });
  }

  it('refuses junk from its first bytes, without waiting for more', () => {
    expect(parseClientHello(Buffer.from('G')).kind).toBe('invalid');
    expect(parseClientHello(Buffer.from([22, 9])).kind).toBe('invalid');
  });

  it('accepts a ClientHello without extensions (no SNI), an upper-case name and a trailing dot', () => {
    expect(parseClientHello(hello({ extensions: null }))).toEqual({ kind: 'ok', serverName: null });
    expect(parseClientHello(hello({ names: [{ type: 0, name: Buffer.from('WWW.Example.COM.') }] }))).toEqual({
      kind: 'ok',
      serverName: 'www.example.com',
    });
  });

  it('refuses a ClientHello declaring more than the peek limit', () => {
    const header = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0, 0]);
    header.writeUIntBE(MAX_CLIENT_HELLO_BYTES, 6, 3);
    expect(parseClientHello(header)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/larger than/),
    });
  });

  it('fuzz: mutated ClientHellos never throw and always get one of the three answers', () => {
    const random = prng(20_261_123);
    const kinds = new Set<ClientHelloResult['kind']>();
    for (let i = 0; i < 30_000; i++) {
      const seed = tlsCorpus[random(tlsCorpus.length)]!.bytes;
      const bytes = Buffer.from(seed);
      const mutations = 1 + random(4);
      let data: Buffer = bytes;
      for (let m = 0; m < mutations; m++) {
        switch (random(4)) {
          case 0:
            data[random(data.length)] = random(256);
            break;
          case 1:
            data = data.subarray(0, random(data.length + 1));
            break;
          case 2: {
            const at = random(data.length + 1);
            data = Buffer.concat([data.subarray(0, at), Buffer.from([random(256)]), data.subarray(at)]);
            break;
          }
          default: {
            // Length fields are where parsers break: hit the bytes near the start hardest.
            const at = random(Math.min(data.length, 80));
            if (at < data.length) data[at] = random(2) === 0 ? 0xff : 0;
          }
        }
        if (data.length === 0) break;
      }
      const result = parseClientHello(data);
      kinds.add(result.kind);
      if (result.kind === 'ok' && result.serverName !== null && !/^[a-z0-9_.-]+$/.test(result.serverName)) {
        throw new Error(`mutation ${i} gave server name ${JSON.stringify(result.serverName)}`);
      }
    }
    // The mutations reached all three outcomes, so the loop exercised the parser's branches.
    expect([...kinds].sort()).toEqual(['incomplete', 'invalid', 'ok']);
  });
});

describe('SniRouter', () => {
  const target = (port: number) => ({ host: '127.0.0.1', portLo: port, portHi: port });
  const router = new SniRouter([
    { name: 'a.example.com', target: target(1) },
    { name: '*.example.com', target: target(2) },
    { name: '*.b.example.com', target: target(3) },
  ]);

  it('prefers the exact name, then a one-label wildcard', () => {
    expect(router.route('a.example.com')?.portLo).toBe(1);
    expect(router.route('x.example.com')?.portLo).toBe(2);
    expect(router.route('y.b.example.com')?.portLo).toBe(3);
  });

  it('matches nothing for a bare domain, two labels under a wildcard, or no SNI', () => {
    expect(router.route('example.com')).toBeNull();
    expect(router.route('x.y.example.com')).toBeNull();
    expect(router.route(null)).toBeNull();
  });
});

/** A ClientHello whose handshake message ends after `bodyLength` bytes of `full`'s body. */
function cutHello(full: Buffer, bodyLength: number): Buffer {
  const body = handshakeOf(full).subarray(4, 4 + bodyLength);
  const header = Buffer.from([1, 0, 0, 0]);
  header.writeUIntBE(body.length, 1, 3);
  return records(Buffer.concat([header, body]), []);
}

const reasonOf = (bytes: Buffer): string | null => {
  const result = parseClientHello(bytes);
  return result.kind === 'invalid' ? result.reason : null;
};

describe('parseClientHello names what is wrong, exactly', () => {
  const full = hello({ sessionId: 4, names: [{ type: 0, name: Buffer.from('example.com') }] });
  // Body: version 2 | random 32 | session id 1+4 | suites 2+2 | compressions 1+1 | extensions 2+...
  it.each([
    [0, 'client_version'],
    [1, 'client_version'],
    [20, 'random'],
    [34, 'session_id length'],
    [37, 'session_id'],
    [40, 'cipher_suites length'],
    [42, 'cipher_suites'],
    [43, 'compression_methods length'],
    [46, 'extensions length'],
    [48, 'extensions'],
  ])('a message that ends %i bytes into its body: %s runs past', (cut, field) => {
    expect(reasonOf(cutHello(full, cut))).toBe(`${field} runs past its enclosing length`);
  });

  it('inside the extensions, each field that overruns is named', () => {
    const ext = (bytes: number[]) => reasonOf(hello({ extensions: Buffer.from(bytes) }));
    expect(ext([0])).toBe('extension type runs past its enclosing length');
    expect(ext([0, 0, 0])).toBe('extension length runs past its enclosing length');
    expect(ext([0, 0, 0, 1, 0])).toBe('server_name_list length runs past its enclosing length');
    expect(ext([0, 0, 0, 2, 0, 4])).toBe('server_name_list runs past its enclosing length');
    expect(ext([0, 0, 0, 3, 0, 1, 0])).toBe('server name length runs past its enclosing length');
    expect(ext([0, 0, 0, 5, 0, 3, 0, 0, 9])).toBe('server name runs past its enclosing length');
    expect(ext([0, 0, 0, 4, 0, 1, 0, 7])).toBe('bytes after server_name_list');
    expect(ext([0, 0, 0, 2, 0, 0])).toBe('server_name_list is empty');
    expect(ext([0, 0, 0, 5, 0, 3, 0, 0, 0])).toBe('empty host_name');
    // An empty server_name extension (a server's echo) is no name, not an error.
    expect(parseClientHello(hello({ extensions: Buffer.from([0, 0, 0, 0]) }))).toEqual({
      kind: 'ok',
      serverName: null,
    });
  });

  it('names the field of each count that cannot be', () => {
    expect(reasonOf(hello({ suites: Buffer.alloc(0) }))).toBe(
      'cipher_suites length 0 is not a positive even number',
    );
    const twoMethods = hello({ sessionId: 4, compressions: Buffer.from([0, 1]) });
    expect(reasonOf(cutHello(twoMethods, 45))).toBe('compression_methods runs past its enclosing length');
    expect(reasonOf(hello({ extensions: Buffer.from([0, 0, 0, 9, 1]) }))).toBe(
      'extension 0 runs past its enclosing length',
    );
    expect(reasonOf(Buffer.from([5]))).toBe('first byte 0x05 is not a TLS handshake record');
    expect(reasonOf(hello({ names: [{ type: 0, name: Buffer.from('a\tb') }] }))).toBe(
      'host_name has byte 0x09, not a host name character',
    );
  });

  it('says how many bytes follow the extensions block', () => {
    const good = handshakeOf(hello({}));
    const body = Buffer.concat([good.subarray(4), Buffer.from([9, 9, 9])]);
    const header = Buffer.from([1, 0, 0, 0]);
    header.writeUIntBE(body.length, 1, 3);
    expect(reasonOf(records(Buffer.concat([header, body]), []))).toBe('3 bytes after the extensions');
  });

  it('skips names of other types and takes the host_name', () => {
    const names = [
      { type: 7, name: Buffer.from('ignored') },
      { type: 0, name: Buffer.from('b.example') },
    ];
    expect(parseClientHello(hello({ names }))).toEqual({ kind: 'ok', serverName: 'b.example' });
  });

  it('takes host names up to 253 characters (254 with the root dot), and refuses longer', () => {
    const label = 'a'.repeat(63);
    const longest = `${label}.${label}.${label}.${'b'.repeat(61)}`;
    expect(longest).toHaveLength(253);
    const name = (text: string) => hello({ names: [{ type: 0, name: Buffer.from(text) }] });
    expect(parseClientHello(name(longest))).toEqual({ kind: 'ok', serverName: longest });
    expect(parseClientHello(name(`${longest}.`))).toEqual({ kind: 'ok', serverName: longest });
    expect(reasonOf(name(`${longest}.c`))).toBe('host_name of 255 bytes is over 253');
  });

  it('takes letters, digits, hyphen, dot and underscore, and names the first other byte', () => {
    const name = (text: string) => hello({ names: [{ type: 0, name: Buffer.from(text, 'latin1') }] });
    expect(parseClientHello(name('az.AZ.09.a-b.a_b'))).toEqual({
      kind: 'ok',
      serverName: 'az.az.09.a-b.a_b',
    });
    for (const [ch, hex] of [
      ['`', '60'],
      ['{', '7b'],
      ['@', '40'],
      ['[', '5b'],
      ['/', '2f'],
      [':', '3a'],
      ['*', '2a'],
      ['\u00e9', 'e9'],
    ]) {
      expect(reasonOf(name(`a${ch}b.com`))).toBe(`host_name has byte 0x${hex}, not a host name character`);
    }
    for (const text of ['.a.com', '.', 'a..b']) {
      expect(reasonOf(name(text))).toBe(`host_name "${text}" has an empty label`);
    }
  });

  it('names the record that breaks the ClientHello, whole or in part', () => {
    const message = handshakeOf(hello({}));
    const firstPart = records(message.subarray(0, 10), []);
    const next = (header: number[]) => reasonOf(Buffer.concat([firstPart, Buffer.from(header)]));
    expect(next([23, 3, 3, 0, 5])).toBe(
      'record type 23 where a handshake record (22) continues the ClientHello',
    );
    expect(next([23])).toBe('record type 23 where a handshake record (22) continues the ClientHello');
    expect(next([22, 2, 0, 0, 5])).toBe('record version 2.0 is not TLS (3.x)');
    expect(next([22, 4])).toBe('record version 4.x is not TLS (3.x)');
    expect(next([22, 3])).toBeNull();
    expect(next([22, 3, 1, 0, 0])).toBe('empty handshake record');
    expect(reasonOf(Buffer.from([23, 3, 3]))).toBe('first byte 0x17 is not a TLS handshake record');
    expect(reasonOf(Buffer.from([22, 3, 1, 0x40, 0x01]))).toBe(
      'record length 16385 is over the TLS limit of 16384',
    );
    // A record of exactly the limit is fine: it waits for its bytes.
    expect(parseClientHello(Buffer.from([22, 3, 1, 0x40, 0x00, 1]))).toEqual({ kind: 'incomplete' });
  });

  it('refuses a handshake that declares no body at once, and the peek limit to the byte', () => {
    expect(reasonOf(Buffer.from([22, 3, 1, 0, 4, 1, 0, 0, 0]))).toBe(
      'client_version runs past its enclosing length',
    );
    const declaring = (length: number) => {
      const bytes = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0, 0]);
      bytes.writeUIntBE(length, 6, 3);
      return parseClientHello(bytes);
    };
    expect(declaring(MAX_CLIENT_HELLO_BYTES - 9)).toEqual({ kind: 'incomplete' });
    expect(declaring(MAX_CLIENT_HELLO_BYTES - 8)).toEqual({
      kind: 'invalid',
      reason: `ClientHello of ${MAX_CLIENT_HELLO_BYTES - 8} bytes is larger than ${MAX_CLIENT_HELLO_BYTES} bytes`,
    });
  });
});
