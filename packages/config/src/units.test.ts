import { describe, expect, it } from 'vitest';
import { parseBandwidth, parseSize } from './units.ts';

describe('parseBandwidth', () => {
  it.each([
    ['100Mbit', 12_500_000],
    ['1.5Gbit', 187_500_000],
    ['1Gbit', 125_000_000],
    ['800Kbit', 100_000],
    ['8bit', 1],
    ['100mbit', 12_500_000],
    ['100 Mbit', 12_500_000],
    ['512B/s', 512],
    ['1KiB/s', 1024],
    ['10MiB/s', 10 * 1024 * 1024],
    ['2GiB/s', 2 * 1024 ** 3],
    ['0.5MiB/s', 512 * 1024],
    [' 100Mbit ', 12_500_000],
    ['1.25Gbit', 156_250_000],
  ])('reads %s as %d bytes/s', (text, bytes) => {
    expect(parseBandwidth(text)).toBe(bytes);
  });

  it('rounds to whole bytes per second', () => {
    expect(parseBandwidth('1.5Kbit')).toBe(188);
  });

  it('names the text and shows what to write instead', () => {
    expect(() => parseBandwidth('100 Mbps')).toThrow(
      new RangeError('"100 Mbps" is not a bandwidth; use e.g. "100Mbit" or "10MiB/s"'),
    );
  });

  it.each([
    '100Mbps',
    '10MB/s',
    '10KB/s',
    '10mib/s',
    '100',
    'Mbit',
    '-5Mbit',
    '1e3Mbit',
    '.5Gbit',
    '',
    '10 Mbit/s',
    'x100Mbit',
    '100Mbit!',
  ])('refuses %j', (text) => {
    expect(() => parseBandwidth(text)).toThrow(/is not a bandwidth; use e\.g\. "100Mbit" or "10MiB\/s"/);
  });

  it('refuses a rate below one byte per second', () => {
    expect(() => parseBandwidth('1bit')).toThrow(/below the smallest bandwidth, 1 B\/s/);
    expect(() => parseBandwidth('0Mbit')).toThrow(RangeError);
  });

  it('refuses a rate too large for a whole-byte counter', () => {
    expect(() => parseBandwidth('80000000000Gbit')).toThrow(
      new RangeError('"80000000000Gbit" is too large a bandwidth'),
    );
  });
});

describe('parseSize', () => {
  it.each([
    ['4MiB', 4 * 1024 ** 2],
    ['512KiB', 512 * 1024],
    ['65536B', 65_536],
    ['1GiB', 1024 ** 3],
    ['1.5 MiB', 1.5 * 1024 ** 2],
    [' 4MiB ', 4 * 1024 ** 2],
    ['1.25KiB', 1280],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseSize(text, 1, 1024 ** 3)).toBe(bytes);
  });

  it('refuses units that could mean bits or decimal bytes, naming the text', () => {
    for (const text of ['4MB', '4M', '4mib', '4Mbit', 'big', 'x4MiB', '4MiB!']) {
      expect(() => parseSize(text, 1, 1024 ** 3)).toThrow(
        new RangeError(`${JSON.stringify(text)} is not a size; use e.g. "4MiB", "512KiB" or "65536B"`),
      );
    }
  });

  it('names the range a size falls outside of', () => {
    expect(() => parseSize('2KiB', 4096, 1024 ** 3)).toThrow(
      new RangeError('"2KiB" is out of range; use 4KiB to 1GiB'),
    );
    expect(parseSize('4KiB', 4096, 1024 ** 3)).toBe(4096);
    // Each bound in the largest unit that divides it whole.
    expect(() => parseSize('1B', 1000, 1536 * 1024 ** 2)).toThrow(
      new RangeError('"1B" is out of range; use 1000B to 1536MiB'),
    );
  });
});
