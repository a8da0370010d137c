import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { addressBytes, formatIPv6, ipv6Bytes, isMappedIPv4, mapIPv4 } from './address.ts';

describe('address text and bytes', () => {
  it('IPv6 bytes -> Node text -> bytes is the identity (seeded, with zero runs and mapped forms)', () => {
    let state = 7;
    const random = (n: number) => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return Math.floor((state / 2 ** 32) * n);
    };
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.alloc(16);
      // Each 16-bit group is zero half the time, so runs of zeros of every length occur.
      for (let g = 0; g < 8; g++) if (random(2) === 1) bytes.writeUInt16BE(random(0x10000), g * 2);
      if (i % 10 === 0) bytes.fill(0, 0, 10).fill(0xff, 10, 12);
      const text = formatIPv6(bytes, 0);
      expect(isIPv6(text), text).toBe(true);
      expect(ipv6Bytes(text), text).toEqual(bytes);
      expect(ipv6Bytes(text.toUpperCase()), text).toEqual(bytes);
    }
  });

  it('reads every spelling Node accepts', () => {
    const want = Buffer.from('00000000000000000000ffffc0000201', 'hex');
    for (const text of [
      '::ffff:192.0.2.1',
      '::FFFF:C000:201',
      '0:0:0:0:0:ffff:192.0.2.1',
      '0:0::ffff:c000:0201',
    ]) {
      expect(addressBytes(text), text).toEqual(want);
    }
    expect(addressBytes('1:2:3:4:5:6:7::')).toEqual(Buffer.from('00010002000300040005000600070000', 'hex'));
    expect(addressBytes('::')).toEqual(Buffer.alloc(16));
    expect(addressBytes('fe80::1%eth0')).toEqual(addressBytes('fe80::1'));
    expect(addressBytes('192.0.2.1')).toEqual(Buffer.from([192, 0, 2, 1]));
    expect(addressBytes('example.org')).toBeNull();
  });

  it('mapped IPv4 is ::ffff:0:0/96 only', () => {
    expect(isMappedIPv4(mapIPv4(Buffer.from([1, 2, 3, 4])))).toBe(true);
    expect(formatIPv6(mapIPv4(Buffer.from([1, 2, 3, 4])), 0)).toBe('::ffff:1.2.3.4');
    expect(isMappedIPv4(addressBytes('::1.2.3.4')!)).toBe(false);
    expect(isMappedIPv4(addressBytes('::fffe:1.2.3.4')!)).toBe(false);
    expect(isMappedIPv4(addressBytes('1::ffff:1.2.3.4')!)).toBe(false);
  });
});
