import { describe, expect, it } from 'vitest';
import { MAX_PROXY_HEADER_BYTES, type ProxyParse, parseProxyHeader } from './decode.ts';
import { encodeProxyHeader } from './encode.ts';

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A v2 header: fixed part with `length` (default: the body's size), then the body. */
function v2(versionCommand: number, family: number, body: readonly number[], length = body.length): Buffer {
  return Buffer.from([...SIGNATURE, versionCommand, family, length >> 8, length & 0xff, ...body]);
}

/** A TLV: type, 16-bit length, value. */
function tlv(type: number, value: readonly number[]): number[] {
  return [type, value.length >> 8, value.length & 0xff, ...value];
}

const IPV4_BLOCK = [192, 0, 2, 1, 198, 51, 100, 2, 0x30, 0x39, 0x00, 0x50]; // :12345 -> :80
// 2001:db8::1 -> ::ffff:192.0.2.7, :1 -> :2
const IPV6_BLOCK = [
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7],
  ...[0, 1, 0, 2],
];

const ascii = (text: string) => Buffer.from(text, 'latin1');

function expectInvalid(buf: Buffer, reason: RegExp | string): void {
  const parsed = parseProxyHeader(buf);
  expect(parsed.kind, `${JSON.stringify(buf.toString('latin1'))} -> ${JSON.stringify(parsed)}`).toBe(
    'invalid',
  );
  if (parsed.kind === 'invalid') expect(parsed.reason).toMatch(reason);
}

/** Headers that must parse; also the fuzz test's seeds. */
const VALID: { name: string; bytes: Buffer }[] = [
  { name: 'v1 TCP4', bytes: ascii('PROXY TCP4 192.0.2.1 198.51.100.2 12345 80\r\n') },
  { name: 'v1 TCP6', bytes: ascii('PROXY TCP6 2001:db8::1 ::ffff:192.0.2.7 1 2\r\n') },
  { name: 'v1 UNKNOWN', bytes: ascii('PROXY UNKNOWN\r\n') },
  { name: 'v1 UNKNOWN with addresses', bytes: ascii('PROXY UNKNOWN ::1 ::2 3 4\r\n') },
  {
    name: 'v1 longest TCP6 (104 bytes)',
    bytes: ascii(`PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`),
  },
  {
    name: 'v1 longest UNKNOWN (107 bytes)',
    bytes: ascii(`PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`),
  },
  { name: 'v2 TCP4', bytes: v2(0x21, 0x11, IPV4_BLOCK) },
  { name: 'v2 UDP6', bytes: v2(0x21, 0x22, IPV6_BLOCK) },
  {
    name: 'v2 TCP4 with TLVs',
    bytes: v2(0x21, 0x11, [
      ...IPV4_BLOCK,
      ...tlv(0x02, [...ascii('example.org')]),
      ...tlv(0x04, []),
      ...tlv(0x03, [1, 2, 3, 4]),
    ]),
  },
  { name: 'v2 LOCAL', bytes: v2(0x20, 0x00, []) },
  { name: 'v2 LOCAL with an address block', bytes: v2(0x20, 0x11, IPV4_BLOCK) },
  { name: 'v2 PROXY AF_UNSPEC', bytes: v2(0x21, 0x00, [1, 2, 3]) },
  { name: 'v2 UNIX stream', bytes: v2(0x21, 0x31, new Array(216).fill(0x61)) },
];

describe('parseProxyHeader: valid headers', () => {
  it('v1 TCP4', () => {
    expect(parseProxyHeader(ascii('PROXY TCP4 192.0.2.1 198.51.100.2 12345 80\r\nGET /'))).toEqual({
      kind: 'ok',
      version: 1,
      headerLength: 44,
      command: 'proxy',
      transport: 'tcp',
      source: { address: '192.0.2.1', port: 12345 },
      destination: { address: '198.51.100.2', port: 80 },
    });
  });

  it('v1 TCP6 addresses come back in Node spelling', () => {
    const parsed = parseProxyHeader(ascii('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:c000:207 0 65535\r\n'));
    expect(parsed).toMatchObject({
      kind: 'ok',
      source: { address: '2001:db8::1', port: 0 },
      destination: { address: '::ffff:192.0.2.7', port: 65535 },
    });
  });

  it('v1 UNKNOWN: no addresses, and whatever follows the word is ignored', () => {
    for (const line of [
      'PROXY UNKNOWN\r\n',
      'PROXY UNKNOWN ::1 ::2 3 4\r\n',
      'PROXY UNKNOWN  anything at all \r\n',
    ]) {
      expect(parseProxyHeader(ascii(`${line}payload`))).toEqual({
        kind: 'ok',
        version: 1,
        headerLength: line.length,
        command: 'proxy',
        transport: null,
        source: null,
        destination: null,
      });
    }
  });

  it('v1 at the length limits: 104-byte TCP6 and 107-byte UNKNOWN lines', () => {
    const tcp6 = VALID.find((v) => v.name.startsWith('v1 longest TCP6'))!.bytes;
    const unknown = VALID.find((v) => v.name.startsWith('v1 longest UNKNOWN'))!.bytes;
    expect(tcp6.length).toBe(104);
    expect(unknown.length).toBe(107);
    expect(parseProxyHeader(tcp6)).toMatchObject({ kind: 'ok', headerLength: 104 });
    expect(parseProxyHeader(Buffer.concat([unknown, ascii('xyz')]))).toMatchObject({
      kind: 'ok',
      headerLength: 107,
    });
  });

  it('v2 TCP4', () => {
    expect(parseProxyHeader(Buffer.concat([v2(0x21, 0x11, IPV4_BLOCK), ascii('payload')]))).toEqual({
      kind: 'ok',
      version: 2,
      headerLength: 28,
      command: 'proxy',
      transport: 'tcp',
      source: { address: '192.0.2.1', port: 12345 },
      destination: { address: '198.51.100.2', port: 80 },
    });
  });

  it('v2 UDP6 with a mapped address', () => {
    expect(parseProxyHeader(v2(0x21, 0x22, IPV6_BLOCK))).toEqual({
      kind: 'ok',
      version: 2,
      headerLength: 52,
      command: 'proxy',
      transport: 'udp',
      source: { address: '2001:db8::1', port: 1 },
      destination: { address: '::ffff:192.0.2.7', port: 2 },
    });
  });

  it('v2 TLVs are skipped and counted in headerLength', () => {
    const header = VALID.find((v) => v.name === 'v2 TCP4 with TLVs')!.bytes;
    const parsed = parseProxyHeader(Buffer.concat([header, ascii('\r\n\r\n')]));
    expect(parsed).toMatchObject({
      kind: 'ok',
      headerLength: header.length,
      source: { address: '192.0.2.1' },
    });
  });

  it('v2 LOCAL: no addresses, the block is skipped whatever it holds', () => {
    const local = {
      kind: 'ok',
      version: 2,
      command: 'local',
      transport: null,
      source: null,
      destination: null,
    };
    expect(parseProxyHeader(v2(0x20, 0x00, []))).toEqual({ ...local, headerLength: 16 });
    expect(parseProxyHeader(v2(0x20, 0x11, IPV4_BLOCK))).toEqual({ ...local, headerLength: 28 });
    expect(parseProxyHeader(v2(0x20, 0x11, []))).toEqual({ ...local, headerLength: 16 });
    expect(parseProxyHeader(v2(0x20, 0x21, [1, 2, 3]))).toEqual({ ...local, headerLength: 19 });
  });

  it('v2 PROXY with AF_UNSPEC or AF_UNIX: no addresses the caller can use', () => {
    expect(parseProxyHeader(v2(0x21, 0x00, []))).toMatchObject({
      kind: 'ok',
      command: 'proxy',
      source: null,
    });
    const unix = v2(0x21, 0x32, new Array(216).fill(0));
    expect(parseProxyHeader(unix)).toMatchObject({
      kind: 'ok',
      transport: 'udp',
      source: null,
      headerLength: 232,
    });
  });

  it('v2 up to exactly MAX_PROXY_HEADER_BYTES', () => {
    const fill = MAX_PROXY_HEADER_BYTES - 16 - IPV4_BLOCK.length - 3;
    const header = v2(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x04, new Array(fill).fill(0))]);
    expect(header.length).toBe(MAX_PROXY_HEADER_BYTES);
    expect(parseProxyHeader(header)).toMatchObject({ kind: 'ok', headerLength: MAX_PROXY_HEADER_BYTES });
  });
});

describe('parseProxyHeader: incomplete', () => {
  it('every proper prefix of a valid header is incomplete, the whole header is ok', () => {
    for (const { name, bytes } of VALID) {
      for (let n = 0; n < bytes.length; n++) {
        expect(parseProxyHeader(bytes.subarray(0, n)), `${name}, first ${n} bytes`).toEqual({
          kind: 'incomplete',
        });
      }
      expect(parseProxyHeader(bytes), name).toMatchObject({ kind: 'ok', headerLength: bytes.length });
    }
  });

  it('a v1 line without CRLF stays incomplete up to 106 bytes and is invalid at 107', () => {
    const line = ascii(`PROXY UNKNOWN ${'a'.repeat(200)}`);
    expect(parseProxyHeader(line.subarray(0, 106))).toEqual({ kind: 'incomplete' });
    expectInvalid(line.subarray(0, 107), 'no CRLF within the first 107 bytes');
    // A CRLF that would end at byte 108 is one byte too late.
    const long = ascii(`PROXY UNKNOWN ${'a'.repeat(92)}\r\n`);
    expect(long.length).toBe(108);
    expectInvalid(long, 'no CRLF within the first 107 bytes');
  });
});

describe('parseProxyHeader: rejected as soon as the first bytes rule it out', () => {
  it('neither signature', () => {
    for (const start of [
      'G',
      'GET / HTTP/1.1\r\n',
      '\x16\x03\x01',
      'P\r',
      'PROXY\r\n',
      'proxy ',
      'PROXYTCP4',
      '\0',
    ]) {
      expectInvalid(ascii(start), 'neither a v1 ("PROXY ") nor a v2 signature');
    }
    expectInvalid(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x01]), 'neither');
    expectInvalid(Buffer.from([...SIGNATURE.slice(0, 11), 0x0d]), 'neither');
  });

  it('a v1 protocol word that can be none of TCP4, TCP6, UNKNOWN', () => {
    expectInvalid(ascii('PROXY X'), 'protocol "X" is not TCP4, TCP6 or UNKNOWN');
    expectInvalid(ascii('PROXY TCP5'), 'protocol "TCP5"');
    expectInvalid(ascii('PROXY tcp4 '), 'protocol "tcp4"');
    expectInvalid(ascii('PROXY TCP '), 'protocol "TCP"');
    expect(parseProxyHeader(ascii('PROXY UNKNO'))).toEqual({ kind: 'incomplete' });
  });

  it('a v1 control or non-ASCII byte, or a stray CR or LF, before the line ends', () => {
    expectInvalid(ascii('PROXY TCP4\t'), 'byte 0x09 at offset 10 is not printable US-ASCII');
    expectInvalid(ascii('PROXY TCP4 192.0.2.1\xc3'), 'byte 0xc3 at offset 20');
    expectInvalid(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'), 'LF at offset 30 without a CR before it');
    expectInvalid(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'), 'CR at offset 30 is not followed by LF');
    expectInvalid(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n'), 'CR at offset 30 is not followed by LF');
  });

  it('v2 fields as soon as their byte arrives', () => {
    expectInvalid(Buffer.from([...SIGNATURE, 0x11]), 'v2: version 1 in the 13th byte, only 2 is defined');
    expectInvalid(Buffer.from([...SIGNATURE, 0x22]), 'v2: command 2 in the 13th byte');
    expectInvalid(
      Buffer.from([...SIGNATURE, 0x21, 0x13]),
      'v2: family/transport 0x13 in the 14th byte is not defined',
    );
    // The high length byte alone: 16 + 0x0900 is over the limit.
    expectInvalid(
      Buffer.from([...SIGNATURE, 0x21, 0x11, 0x09]),
      /v2: header length at least 2304 .* over the 2064-byte limit/,
    );
  });
});

describe('parseProxyHeader: malformed v1', () => {
  const line = (rest: string) => ascii(`PROXY ${rest}\r\n`);

  it('the protocol word', () => {
    expectInvalid(line('TCP5 1.2.3.4 5.6.7.8 1 2'), 'protocol "TCP5" is not TCP4, TCP6 or UNKNOWN');
    expectInvalid(line('UDP4 1.2.3.4 5.6.7.8 1 2'), 'protocol "UDP4"');
    expectInvalid(line('UNKNOWNX'), 'protocol "UNKNOWNX"');
    expectInvalid(line('unknown'), 'protocol "unknown"');
  });

  it('spacing: exactly one space between fields, none at the end', () => {
    expectInvalid(
      line(' TCP4 1.2.3.4 5.6.7.8 1 2'),
      'empty protocol (fields are separated by exactly one space',
    );
    expectInvalid(line('TCP4  1.2.3.4 5.6.7.8 1 2'), 'empty source address');
    expectInvalid(line('TCP4 1.2.3.4  5.6.7.8 1 2'), 'empty destination address');
    expectInvalid(line('TCP4 1.2.3.4 5.6.7.8  1 2'), 'empty source port');
    expectInvalid(line('TCP4 1.2.3.4 5.6.7.8 1  2'), 'empty destination port');
    expectInvalid(line('TCP4 1.2.3.4 5.6.7.8 1 2 '), 'empty field');
    expectInvalid(ascii('PROXY \r\n'), 'empty protocol');
  });

  it('the number of fields', () => {
    expectInvalid(line('TCP4'), 'TCP4 needs 4 fields after it (addresses and ports), found 0');
    expectInvalid(line('TCP4 1.2.3.4 5.6.7.8 1'), 'found 3');
    expectInvalid(line('TCP6 ::1 ::2 1 2 3'), 'TCP6 needs 4 fields after it (addresses and ports), found 5');
  });

  it('addresses: valid literals of the family the protocol names', () => {
    expectInvalid(line('TCP4 ::1 5.6.7.8 1 2'), 'source address "::1" is not an IPv4 address (TCP4)');
    expectInvalid(
      line('TCP4 1.2.3.4 ::ffff:5.6.7.8 1 2'),
      'destination address "::ffff:5.6.7.8" is not an IPv4',
    );
    expectInvalid(line('TCP6 1.2.3.4 ::1 1 2'), 'source address "1.2.3.4" is not an IPv6 address (TCP6)');
    expectInvalid(
      line('TCP6 ::1 5.6.7.8 1 2'),
      'destination address "5.6.7.8" is not an IPv6 address (TCP6)',
    );
    for (const bad of [
      '01.2.3.4',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.-4',
      'localhost',
      '0x7f.0.0.1',
    ]) {
      expectInvalid(line(`TCP4 ${bad} 5.6.7.8 1 2`), `source address "${bad}" is not an IPv4 address`);
    }
    for (const bad of ['1::2::3', ':::1', '12345::1', '[::1]', 'g::1', '1:2:3:4:5:6:7:8:9']) {
      expectInvalid(line(`TCP6 ${bad} ::1 1 2`), `source address "${bad}" is not an IPv6 address`);
    }
    expectInvalid(line('TCP6 fe80::1%eth0 ::1 1 2'), 'source address "fe80::1%eth0" has a zone');
  });

  it('ports: decimal 0..65535, no sign, no leading zeros, nothing else', () => {
    for (const bad of ['+80', '-1', '080', '00', '65536', '99999', '100000', '1e3', '0x50', '80a', '8_0']) {
      expectInvalid(
        line(`TCP4 1.2.3.4 5.6.7.8 ${bad} 2`),
        `source port "${bad}" is not a decimal 0..65535 without sign or leading zeros`,
      );
      expectInvalid(line(`TCP4 1.2.3.4 5.6.7.8 1 ${bad}`), `destination port "${bad}"`);
    }
  });
});

describe('parseProxyHeader: malformed v2', () => {
  it('signature, version, command', () => {
    const good = v2(0x21, 0x11, IPV4_BLOCK);
    for (let i = 0; i < 12; i++) {
      const bad = Buffer.from(good);
      bad[i]! ^= 0x40;
      const parsed = parseProxyHeader(bad);
      expect(parsed.kind, `signature byte ${i}`).toBe('invalid');
    }
    expectInvalid(v2(0x31, 0x11, IPV4_BLOCK), 'version 3');
    expectInvalid(v2(0x01, 0x11, IPV4_BLOCK), 'version 0');
    expectInvalid(v2(0x2f, 0x11, IPV4_BLOCK), 'command 15');
  });

  it('family/transport bytes the spec does not define, for PROXY and LOCAL alike', () => {
    for (const family of [0x01, 0x02, 0x10, 0x13, 0x20, 0x23, 0x30, 0x41, 0xff]) {
      const hex = family.toString(16).padStart(2, '0');
      expectInvalid(
        v2(0x21, family, IPV4_BLOCK),
        `family/transport 0x${hex} in the 14th byte is not defined`,
      );
      expectInvalid(v2(0x20, family, []), `0x${hex}`);
    }
  });

  it('an address block shorter than the family needs', () => {
    expectInvalid(
      v2(0x21, 0x11, IPV4_BLOCK.slice(0, 8)),
      'TCP over IPv4 needs 12 address bytes, the header declares 8',
    );
    expectInvalid(v2(0x21, 0x12, []), 'UDP over IPv4 needs 12 address bytes, the header declares 0');
    expectInvalid(v2(0x21, 0x21, IPV4_BLOCK), 'TCP over IPv6 needs 36 address bytes, the header declares 12');
    expectInvalid(v2(0x21, 0x22, IPV6_BLOCK.slice(0, 35)), 'UDP over IPv6 needs 36');
    expectInvalid(v2(0x21, 0x31, IPV6_BLOCK), 'UNIX stream needs 216');
    expectInvalid(v2(0x21, 0x32, []), 'UNIX datagram needs 216');
  });

  it('TLVs that do not fit the declared length', () => {
    expectInvalid(
      v2(0x21, 0x11, [...IPV4_BLOCK, 0x04]),
      '1 byte(s) at offset 28 after the addresses are too short for a TLV',
    );
    expectInvalid(v2(0x21, 0x11, [...IPV4_BLOCK, 0x04, 0x00]), '2 byte(s) at offset 28');
    expectInvalid(
      v2(0x21, 0x11, [...IPV4_BLOCK, 0x02, 0x00, 0x0a, 1, 2, 3, 4, 5]),
      'TLV 0x02 at offset 28 declares 10 bytes, the header has 5 left',
    );
    expectInvalid(
      v2(0x21, 0x11, [...IPV4_BLOCK, ...tlv(0x04, [1]), 0x05, 0xff, 0xff]),
      'TLV 0x05 at offset 32 declares 65535 bytes, the header has 0 left',
    );
  });

  it('a declared length over MAX_PROXY_HEADER_BYTES, without waiting for the bytes', () => {
    const over = MAX_PROXY_HEADER_BYTES - 16 + 1;
    expectInvalid(
      v2(0x21, 0x11, IPV4_BLOCK, over),
      `header length ${over} (+16) is over the ${MAX_PROXY_HEADER_BYTES}-byte limit`,
    );
    expectInvalid(v2(0x21, 0x11, IPV4_BLOCK, 0xffff), 'header length 65535');
    expectInvalid(v2(0x20, 0x00, [], 0xffff), 'header length 65535');
  });
});

/** A small seeded PRNG so every fuzz run is the same run. */
function prng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

function mutate(seed: Buffer, random: (n: number) => number): Buffer {
  let bytes = [...seed];
  const steps = 1 + random(4);
  for (let s = 0; s < steps; s++) {
    const at = random(bytes.length + 1);
    switch (random(7)) {
      case 0: // flip bits of one byte
        if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << random(8);
        break;
      case 1: // set one byte to anything
        if (bytes.length > 0) bytes[at % bytes.length] = random(256);
        break;
      case 2: // set one byte to a character that matters to the parser
        if (bytes.length > 0)
          bytes[at % bytes.length] = [0x0d, 0x0a, 0x20, 0x00, 0x30, 0x3a, 0x2e, 0xff][random(8)]!;
        break;
      case 3: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 4: // insert bytes
        bytes.splice(at, 0, ...Array.from({ length: 1 + random(3) }, () => random(256)));
        break;
      case 5: // delete bytes
        bytes.splice(at, 1 + random(3));
        break;
      default: // append payload
        bytes.push(...Array.from({ length: random(20) }, () => random(256)));
    }
  }
  return Buffer.from(bytes);
}

describe('parseProxyHeader: fuzz', () => {
  it('never throws, always answers one of the three kinds, never over-reads (seeded, 20000 inputs)', () => {
    const random = prng(0x5eed_cafe);
    const seeds = [
      ...VALID.map((v) => v.bytes),
      encodeProxyHeader('v1', { address: '2001:db8::1', port: 1 }, { address: '192.0.2.1', port: 2 }),
      encodeProxyHeader('v2', { address: '::ffff:192.0.2.1', port: 1 }, { address: '::1', port: 2 }),
      encodeProxyHeader(
        'v2',
        { address: '192.0.2.1', port: 1 },
        { address: '192.0.2.2', port: 2 },
        { protocol: 'udp' },
      ),
    ];
    const counts: Record<ProxyParse['kind'], number> = { ok: 0, incomplete: 0, invalid: 0 };
    for (let i = 0; i < 20_000; i++) {
      const input = mutate(seeds[random(seeds.length)]!, random);
      let parsed: ProxyParse;
      try {
        parsed = parseProxyHeader(input);
      } catch (err) {
        throw new Error(`iteration ${i}: threw on ${input.toString('hex')}: ${String(err)}`);
      }
      counts[parsed.kind]++;
      const where = `iteration ${i}, input ${input.toString('hex')}`;
      switch (parsed.kind) {
        case 'incomplete':
          expect(input.length, where).toBeLessThan(MAX_PROXY_HEADER_BYTES);
          break;
        case 'invalid':
          expect(typeof parsed.reason, where).toBe('string');
          expect(parsed.reason.length, where).toBeGreaterThan(0);
          break;
        case 'ok': {
          expect(parsed.headerLength, where).toBeLessThanOrEqual(input.length);
          expect(parsed.headerLength, where).toBeGreaterThanOrEqual(15);
          // The header alone parses the same, and no prefix of it was ever rejected: early
          // rejection never throws away a header that more bytes would have completed.
          const header = input.subarray(0, parsed.headerLength);
          expect(parseProxyHeader(header), where).toEqual(parsed);
          for (let n = 0; n < header.length; n++) {
            const prefix = parseProxyHeader(header.subarray(0, n));
            if (prefix.kind !== 'incomplete')
              expect.fail(`${where}: prefix of ${n} bytes is ${JSON.stringify(prefix)}`);
          }
          break;
        }
        default:
          expect.fail(`${where}: unknown kind ${JSON.stringify(parsed)}`);
      }
    }
    // The mutations reach all three answers, so the loop is exercising the parser.
    expect(counts.ok).toBeGreaterThan(1000);
    expect(counts.incomplete).toBeGreaterThan(1000);
    expect(counts.invalid).toBeGreaterThan(1000);
  });

  it('random bytes after a valid signature never throw', () => {
    const random = prng(42);
    for (let i = 0; i < 5000; i++) {
      const prefix = i % 2 === 0 ? Buffer.from(SIGNATURE) : ascii('PROXY ');
      const tail = Buffer.from(Array.from({ length: random(120) }, () => random(256)));
      const parsed = parseProxyHeader(Buffer.concat([prefix, tail]));
      expect(['ok', 'incomplete', 'invalid']).toContain(parsed.kind);
    }
  });
});
