import { describe, expect, it } from 'vitest';
import { IPERF3_ERRORS } from './errors.ts';
import { formatBitrate, iperf3ClientArgs, parseBitrate } from './options.ts';

function badOption(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (IPERF3_ERRORS.is(err) && err.code === 'iperf3_bad_option') return err.message;
    throw err;
  }
  throw new Error('expected iperf3_bad_option');
}

describe('parseBitrate / formatBitrate', () => {
  it('reads iperf3-style bitrates and names them back', () => {
    expect(parseBitrate('100M')).toBe(1e8);
    expect(parseBitrate('2.5G')).toBe(2.5e9);
    expect(parseBitrate('15g')).toBe(15e9);
    expect(parseBitrate(0)).toBe(0);
    expect(parseBitrate('unlimited')).toBe(0);
    expect(['100M', '1G', '2.5G', '20G', 'unlimited'].map((b) => formatBitrate(parseBitrate(b)))).toEqual([
      '100M',
      '1G',
      '2.5G',
      '20G',
      'unlimited',
    ]);
  });

  it('refuses what is not a bitrate', () => {
    expect(badOption(() => parseBitrate('fast'))).toMatch(/^bitrate: "fast" is not a bitrate/);
    expect(badOption(() => parseBitrate(-1))).toBe('bitrate: not a bitrate: -1');
  });
});

describe('iperf3ClientArgs', () => {
  it('gives a JSON client run with defaults', () => {
    expect(iperf3ClientArgs({ port: 5201 })).toEqual([
      '-c',
      '127.0.0.1',
      '-p',
      '5201',
      '-t',
      '10',
      '-J',
      '--connect-timeout',
      '3000',
    ]);
  });

  it('passes omit, UDP, bitrate, parallel streams, reverse, length and socket buffer', () => {
    const args = iperf3ClientArgs({
      port: 5201,
      seconds: 3,
      omitSeconds: 1,
      udp: true,
      bitrate: '2.5G',
      parallel: 8,
      reverse: true,
      length: 1400,
      socketBuffer: 4_194_304,
    });
    expect(args.slice(9)).toEqual([
      ...['-O', '1', '-u', '-b', '2500000000', '-P', '8', '-R', '-l', '1400'],
      ...['-w', '4194304'],
    ]);
  });

  it('names a bad option instead of letting iperf3 print its usage', () => {
    expect(badOption(() => iperf3ClientArgs({ port: 0 }))).toBe(
      'port: expected a whole number from 1 to 65535, got 0',
    );
    expect(badOption(() => iperf3ClientArgs({ port: 1, parallel: 1.5 }))).toMatch(/^parallel: /);
    expect(badOption(() => iperf3ClientArgs({ port: 1, socketBuffer: 0 }))).toBe(
      'socketBuffer: expected a whole number from 1 to 536870912, got 0',
    );
    expect(badOption(() => iperf3ClientArgs({ port: 1, socketBuffer: 536_870_913 }))).toMatch(
      /^socketBuffer: /,
    );
    expect(iperf3ClientArgs({ port: 1, socketBuffer: 536_870_912 }).slice(-2)).toEqual(['-w', '536870912']);
    expect(badOption(() => iperf3ClientArgs({ port: 1, udp: true, length: 65_508 }))).toMatch(
      /^length: a UDP datagram carries at most 65507 bytes/,
    );
  });
});
