// Fuzzing the PROXY header decoder: any header the encoder makes (v1 or v2, IPv4 or IPv6, TCP or
// UDP, any ports) decodes to what was encoded, with its length, whatever follows it; its strict
// prefixes ask for more; and any bytes get a verdict without throwing, one that later bytes do not
// overturn.

import { join } from 'node:path';
import { BYTES_CODEC, fuzz, JSON_CODEC } from '@sluice/test-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressBytes, type ProxyEndpoint } from './address.ts';
import { parseProxyHeader } from './decode.ts';
import { encodeProxyHeader, type ProxyTransport, type ProxyVersion } from './encode.ts';
import { V2_SIGNATURE } from './header-layout.ts';

const CORPUS = join(import.meta.dirname, 'fuzz-corpus');

interface Header {
  readonly version: ProxyVersion;
  readonly protocol: ProxyTransport;
  readonly source: ProxyEndpoint;
  readonly destination: ProxyEndpoint;
  readonly tail: string;
}

const endpoint = (address: fc.Arbitrary<string>) =>
  fc.record({ address, port: fc.integer({ min: 0, max: 65535 }) });
const ipv6 = fc.ipV6();
/** An endpoint with its address as bytes: text forms of one IPv6 address differ (`::1:0`, `::0.1.0.0`). */
const asBytes = (e: ProxyEndpoint | null) =>
  e === null ? null : { address: addressBytes(e.address), port: e.port };
const headerArb: fc.Arbitrary<Header> = fc
  .record({
    version: fc.constantFrom<ProxyVersion>('v1', 'v2'),
    udp: fc.boolean(),
    v6: fc.boolean(),
    tail: fc.string({ maxLength: 30 }),
  })
  .chain(({ version, udp, v6, tail }) =>
    fc.record({
      version: fc.constant(version),
      protocol: fc.constant<ProxyTransport>(udp && version === 'v2' ? 'udp' : 'tcp'),
      source: endpoint(v6 ? ipv6 : fc.ipV4()),
      destination: endpoint(v6 ? ipv6 : fc.ipV4()),
      tail: fc.constant(tail),
    }),
  )
  // The decoder reads an IPv4-mapped IPv6 address of v2 as IPv4: leave those to the unit tests.
  .filter((h) => !h.source.address.startsWith('::ffff:') && !h.destination.address.startsWith('::ffff:'));

function encoded(h: Header): Buffer {
  return encodeProxyHeader(h.version, h.source, h.destination, { protocol: h.protocol });
}

describe('parseProxyHeader under fuzzing', () => {
  it('decodes any header the encoder makes, whatever follows it', async () => {
    await fuzz({
      corpus: join(CORPUS, 'round-trip.corpus'),
      arbitrary: headerArb,
      codec: JSON_CODEC as never,
      check: (h: Header) => {
        const header = encoded(h);
        const result = parseProxyHeader(Buffer.concat([header, Buffer.from(h.tail)]));
        if (result.kind !== 'ok') throw new Error(`not decoded: ${JSON.stringify(result)}`);
        expect({
          ...result,
          source: asBytes(result.source),
          destination: asBytes(result.destination),
        }).toEqual({
          kind: 'ok',
          version: h.version === 'v1' ? 1 : 2,
          headerLength: header.length,
          command: 'proxy',
          transport: h.version === 'v1' ? 'tcp' : h.protocol,
          source: asBytes(h.source),
          destination: asBytes(h.destination),
        });
      },
    });
  });

  it('asks for more on every strict prefix of a header', async () => {
    await fuzz({
      corpus: join(CORPUS, 'prefix.hex'),
      arbitrary: fc
        .tuple(headerArb, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }))
        .map(([h, cut]) => {
          const header = encoded(h);
          return header.subarray(0, Math.floor(header.length * cut));
        }),
      codec: BYTES_CODEC,
      check: (prefix) => {
        expect(parseProxyHeader(prefix)).toEqual({ kind: 'incomplete' });
      },
    });
  });

  it('gives any bytes a verdict without throwing, which later bytes do not overturn', async () => {
    const start = fc.constantFrom(
      Buffer.alloc(0),
      Buffer.from('PROXY '),
      Buffer.from('PROXY TCP4 '),
      V2_SIGNATURE,
    );
    await fuzz({
      corpus: join(CORPUS, 'any-bytes.hex'),
      arbitrary: fc
        .tuple(start, fc.uint8Array({ maxLength: 300 }))
        .map(([head, rest]) => Buffer.concat([head, Buffer.from(rest)])),
      codec: BYTES_CODEC,
      check: (bytes) => {
        const verdict = parseProxyHeader(bytes);
        const later = parseProxyHeader(Buffer.concat([bytes, Buffer.from('later bytes\r\n')]));
        if (verdict.kind === 'ok') expect(later).toEqual(verdict);
        if (verdict.kind === 'invalid') expect(later.kind).toBe('invalid');
      },
    });
  });
});
