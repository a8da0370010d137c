import { describe, expect, it } from 'vitest';
import { parseProxyHeader } from './decode.ts';
import { encodeProxyHeader, type ProxyVersion } from './encode.ts';
import { PROXY_HEADER_ERRORS, type ProxyHeaderError, type ProxyHeaderErrorCode } from './errors.ts';

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function thrownCode(fn: () => unknown): ProxyHeaderErrorCode | 'none' {
  try {
    fn();
  } catch (err) {
    expect(PROXY_HEADER_ERRORS.is(err)).toBe(true);
    return (err as ProxyHeaderError).code;
  }
  return 'none';
}

describe('encodeProxyHeader: byte vectors written out by hand', () => {
  it('v1 TCP4', () => {
    const header = encodeProxyHeader(
      'v1',
      { address: '192.0.2.10', port: 51234 },
      { address: '198.51.100.20', port: 443 },
    );
    expect(header).toEqual(Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.20 51234 443\r\n', 'latin1'));
  });

  it('v1 TCP6, addresses in their compressed lower-case spelling', () => {
    const header = encodeProxyHeader(
      'v1',
      { address: '2001:DB8:0:0:0:0:0:1', port: 0 },
      { address: '2001:db8::a:0:0:2', port: 65535 },
    );
    expect(header.toString('latin1')).toBe('PROXY TCP6 2001:db8::1 2001:db8::a:0:0:2 0 65535\r\n');
  });

  it('v2 TCP over IPv4', () => {
    const header = encodeProxyHeader(
      'v2',
      { address: '192.0.2.10', port: 51234 },
      { address: '198.51.100.20', port: 443 },
    );
    // biome-ignore format: one field per line, laid out as the spec draws it
    const want = Buffer.from([
      ...SIGNATURE,
      0x21, // version 2, command PROXY
      0x11, // AF_INET, STREAM
      0x00, 0x0c, // 12 address bytes follow
      192, 0, 2, 10, // source
      198, 51, 100, 20, // destination
      0xc8, 0x22, // 51234
      0x01, 0xbb, // 443
    ]);
    expect(header).toEqual(want);
  });

  it('v2 UDP over IPv6', () => {
    const header = encodeProxyHeader(
      'v2',
      { address: '2001:db8::1', port: 53 },
      { address: 'fe80::2', port: 5353 },
      { protocol: 'udp' },
    );
    // biome-ignore format: one field per line, laid out as the spec draws it
    const want = Buffer.from([
      ...SIGNATURE,
      0x21, // version 2, command PROXY
      0x22, // AF_INET6, DGRAM
      0x00, 0x24, // 36 address bytes follow
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
      0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
      0x00, 0x35, // 53
      0x14, 0xe9, // 5353
    ]);
    expect(header).toEqual(want);
  });

  it('v2 with udp over IPv4 uses family byte 0x12', () => {
    const header = encodeProxyHeader(
      'v2',
      { address: '10.0.0.1', port: 1 },
      { address: '10.0.0.2', port: 2 },
      { protocol: 'udp' },
    );
    expect(header[13]).toBe(0x12);
  });
});

describe('encodeProxyHeader: IPv4-mapped addresses (dual-stack sockets)', () => {
  it('both ends mapped go out as IPv4', () => {
    const src = { address: '::ffff:192.0.2.1', port: 1000 };
    const dst = { address: '::ffff:198.51.100.2', port: 80 };
    expect(encodeProxyHeader('v1', src, dst).toString('latin1')).toBe(
      'PROXY TCP4 192.0.2.1 198.51.100.2 1000 80\r\n',
    );
    const v2 = encodeProxyHeader('v2', src, dst);
    expect(v2[13]).toBe(0x11);
    expect(v2.subarray(16, 24)).toEqual(Buffer.from([192, 0, 2, 1, 198, 51, 100, 2]));
  });

  it('one mapped and one plain IPv4 go out as IPv4, whatever the mapped spelling', () => {
    for (const mapped of ['::ffff:192.0.2.1', '::FFFF:c000:201', '0:0:0:0:0:ffff:192.0.2.1']) {
      const header = encodeProxyHeader(
        'v1',
        { address: mapped, port: 1 },
        { address: '198.51.100.2', port: 2 },
      );
      expect(header.toString('latin1')).toBe('PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n');
    }
  });

  it('IPv4 with IPv6: the IPv4 end is mapped (v1 TCP6, v2 AF_INET6)', () => {
    const src = { address: '192.0.2.1', port: 1000 };
    const dst = { address: '2001:db8::2', port: 80 };
    expect(encodeProxyHeader('v1', src, dst).toString('latin1')).toBe(
      'PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1000 80\r\n',
    );
    const v2 = encodeProxyHeader('v2', src, dst);
    expect(v2[13]).toBe(0x21);
    expect(v2.subarray(16, 32)).toEqual(
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]),
    );
    // The other way round too, and with the IPv4 end already mapped.
    const back = encodeProxyHeader('v1', dst, { address: '::ffff:192.0.2.1', port: 1000 });
    expect(back.toString('latin1')).toBe('PROXY TCP6 2001:db8::2 ::ffff:192.0.2.1 80 1000\r\n');
  });

  it('an IPv4-compatible (not mapped) address stays IPv6', () => {
    const header = encodeProxyHeader(
      'v2',
      { address: '::192.0.2.1', port: 1 },
      { address: '192.0.2.2', port: 2 },
    );
    expect(header[13]).toBe(0x21);
  });

  it('drops an IPv6 zone, which names an interface of this host only', () => {
    const header = encodeProxyHeader(
      'v1',
      { address: 'fe80::1%eth0', port: 1 },
      { address: 'fe80::2', port: 2 },
    );
    expect(header.toString('latin1')).toBe('PROXY TCP6 fe80::1 fe80::2 1 2\r\n');
  });
});

describe('encodeProxyHeader: round trips through parseProxyHeader', () => {
  const pairs: [string, string][] = [
    ['192.0.2.1', '198.51.100.2'],
    ['0.0.0.0', '255.255.255.255'],
    ['2001:db8::1', '2001:db8:1:2:3:4:5:6'],
    ['::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['::1', 'fe80::1:2'],
  ];
  for (const version of ['v1', 'v2'] as ProxyVersion[]) {
    for (const [a, b] of pairs) {
      for (const [sport, dport] of [
        [0, 65535],
        [51234, 443],
      ] as const) {
        it(`${version} ${a}:${sport} -> ${b}:${dport}`, () => {
          const header = encodeProxyHeader(version, { address: a, port: sport }, { address: b, port: dport });
          const payload = Buffer.from('\r\nPROXY after the header is payload');
          const parsed = parseProxyHeader(Buffer.concat([header, payload]));
          expect(parsed).toEqual({
            kind: 'ok',
            version: version === 'v1' ? 1 : 2,
            headerLength: header.length,
            command: 'proxy',
            transport: 'tcp',
            source: { address: a, port: sport },
            destination: { address: b, port: dport },
          });
        });
      }
    }
  }

  it('v2 udp round trips with transport udp', () => {
    for (const [a, b] of pairs) {
      const header = encodeProxyHeader(
        'v2',
        { address: a, port: 1 },
        { address: b, port: 2 },
        { protocol: 'udp' },
      );
      const parsed = parseProxyHeader(header);
      expect(parsed).toMatchObject({
        kind: 'ok',
        transport: 'udp',
        source: { address: a },
        destination: { address: b },
      });
    }
  });

  it('mixed families come back mapped, as Node shows them on a dual-stack socket', () => {
    for (const version of ['v1', 'v2'] as ProxyVersion[]) {
      const header = encodeProxyHeader(
        version,
        { address: '192.0.2.1', port: 7 },
        { address: '::1', port: 8 },
      );
      expect(parseProxyHeader(header)).toMatchObject({
        kind: 'ok',
        source: { address: '::ffff:192.0.2.1', port: 7 },
        destination: { address: '::1', port: 8 },
      });
    }
  });
});

describe('encodeProxyHeader: errors', () => {
  const ok = { address: '192.0.2.1', port: 80 };

  it('v1 cannot describe UDP', () => {
    expect(thrownCode(() => encodeProxyHeader('v1', ok, ok, { protocol: 'udp' }))).toBe('proxy_v1_udp');
    expect(() => encodeProxyHeader('v1', ok, ok, { protocol: 'udp' })).toThrow(/v1 can only describe TCP/);
  });

  it('rejects addresses that are not IP literals, naming the side', () => {
    for (const address of [
      '',
      'localhost',
      '192.0.2',
      '01.2.3.4',
      '256.0.0.1',
      '[::1]',
      '::1::2',
      ' 192.0.2.1',
    ]) {
      expect(thrownCode(() => encodeProxyHeader('v2', ok, { address, port: 1 }))).toBe(
        'proxy_address_invalid',
      );
    }
    expect(() => encodeProxyHeader('v1', { address: 'example.org', port: 1 }, ok)).toThrow(
      'PROXY header source address "example.org" is not an IPv4 or IPv6 address',
    );
  });

  it('rejects ports outside 0..65535 or not integers', () => {
    for (const port of [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(thrownCode(() => encodeProxyHeader('v1', ok, { address: '::1', port }))).toBe(
        'proxy_port_invalid',
      );
    }
    expect(() => encodeProxyHeader('v2', ok, { address: '::1', port: 70000 })).toThrow(
      'PROXY header destination port 70000 is not an integer in 0..65535',
    );
  });

  it('rejects an unknown version or transport (callers from plain JS or config)', () => {
    expect(thrownCode(() => encodeProxyHeader('v3' as ProxyVersion, ok, ok))).toBe('proxy_version_invalid');
    expect(thrownCode(() => encodeProxyHeader('v2', ok, ok, { protocol: 'sctp' as 'tcp' }))).toBe(
      'proxy_transport_invalid',
    );
  });

  it('errors cross threads as plain data', () => {
    try {
      encodeProxyHeader('v2', ok, { address: 'nope', port: 1 });
      expect.unreachable();
    } catch (err) {
      expect((err as ProxyHeaderError).toData()).toEqual({
        code: 'proxy_address_invalid',
        message: 'PROXY header destination address "nope" is not an IPv4 or IPv6 address',
        details: { side: 'destination', address: 'nope' },
      });
    }
  });
});
