import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPERF3_ERRORS, type Iperf3Error } from './errors.ts';
import { parseIperf3Result, parseIperf3TcpResult, parseIperf3UdpResult } from './result.ts';

// Recorded from iperf3 3.12 on loopback, against `iperf3 -s -B 127.0.0.1`:
//   tcp-single-flow      iperf3 -c 127.0.0.1 -p P -t 2 -J
//   tcp-reverse          iperf3 -c 127.0.0.1 -p P -t 2 -R -J
//   tcp-parallel-8       iperf3 -c 127.0.0.1 -p P -t 2 -O 1 -P 8 -J
//   udp-100m             iperf3 -c 127.0.0.1 -p P -t 2 -u -b 100M -l 1400 -J
//   udp-unlimited-loss   iperf3 -c 127.0.0.1 -p P -t 2 -u -b 0 -l 1400 -J
//   connection-refused   iperf3 -c 127.0.0.1 -p CLOSED -t 1 -J
const fixture = (name: string): string =>
  readFileSync(join(import.meta.dirname, 'fixtures', `iperf3-${name}.json`), 'utf8');

function thrown(run: () => unknown): Iperf3Error {
  try {
    run();
  } catch (err) {
    if (IPERF3_ERRORS.is(err)) return err;
    throw err;
  }
  throw new Error('expected an Iperf3Error');
}

describe('parseIperf3Result', () => {
  it('reads a single-flow TCP run: received and sent rates, retransmits, CPU', () => {
    expect(parseIperf3Result(fixture('tcp-single-flow'))).toEqual({
      protocol: 'tcp',
      version: 'iperf 3.12',
      streams: 1,
      reverse: false,
      targetBitsPerSecond: 0,
      blockSize: 131072,
      omitSeconds: 0,
      seconds: 2.000307,
      sentBitsPerSecond: 29141061030.394714,
      receivedBitsPerSecond: 29140696823.037666,
      sentBytes: 7286292480,
      receivedBytes: 7286292480,
      receiveBufferBytes: 131072,
      retransmits: 0,
      cpuClientPercent: 98.8833427674574,
      cpuServerPercent: 63.98038920636476,
    });
  });

  it('reads a reverse run (the server sends) the same way, flagged reverse', () => {
    const result = parseIperf3TcpResult(fixture('tcp-reverse'));
    expect(result).toMatchObject({ protocol: 'tcp', reverse: true, streams: 1, retransmits: 1 });
    expect(result.receivedBitsPerSecond).toBeCloseTo(22345286153.04313, 3);
    expect(result.sentBitsPerSecond).toBeCloseTo(22339965979.83761, 3);
  });

  it('sums parallel streams and keeps the omitted seconds', () => {
    const result = parseIperf3TcpResult(fixture('tcp-parallel-8'));
    expect(result).toMatchObject({ streams: 8, omitSeconds: 1, retransmits: 6 });
    expect(result.receivedBitsPerSecond).toBeCloseTo(18041353843.8164, 3);
  });

  it('reads a UDP run: the receiver rate, jitter and loss, with the packets sent', () => {
    expect(parseIperf3UdpResult(fixture('udp-100m'))).toMatchObject({
      protocol: 'udp',
      streams: 1,
      targetBitsPerSecond: 100_000_000,
      blockSize: 1400,
      receivedBitsPerSecond: 99950354.7907627,
      sentBitsPerSecond: 99952403.6173251,
      sentPackets: 17850,
      totalPackets: 17850,
      lostPackets: 0,
      lostPercent: 0,
      jitterMs: 0.009432041518445995,
      receiveBufferBytes: 212_992,
    });
  });

  it('reports the loss of an unlimited UDP run as the receiver counted it', () => {
    const result = parseIperf3UdpResult(fixture('udp-unlimited-loss'));
    expect(result).toMatchObject({
      targetBitsPerSecond: 0,
      sentPackets: 435260,
      totalPackets: 434899,
      lostPackets: 274707,
      lostPercent: 63.1133115838809,
    });
    expect(result.receivedBitsPerSecond).toBeLessThan(result.sentBitsPerSecond);
  });

  it('turns the "error" key of a refused connection into iperf3_client_failed', () => {
    const err = thrown(() => parseIperf3Result(fixture('connection-refused')));
    expect(err.code).toBe('iperf3_client_failed');
    expect(err.message).toBe('iperf3 client failed: unable to connect to server: Connection refused');
    expect(err.toData()).toEqual({
      code: 'iperf3_client_failed',
      message: err.message,
      details: { reason: 'unable to connect to server: Connection refused' },
    });
  });

  it('refuses a UDP report where TCP was asked for, and the other way round', () => {
    expect(thrown(() => parseIperf3TcpResult(fixture('udp-100m'))).message).toContain('expected a TCP run');
    expect(thrown(() => parseIperf3UdpResult(fixture('tcp-reverse'))).message).toContain(
      'expected a UDP run',
    );
  });

  it('names what is wrong with output that is not JSON', () => {
    const err = thrown(() => parseIperf3Result('iperf3: error - unable to connect'));
    expect(err.code).toBe('iperf3_bad_output');
    expect(err.message).toMatch(/not JSON .*: iperf3: error - unable to connect$/);
    expect(thrown(() => parseIperf3Result('')).message).toMatch(/\(empty\)$/);
  });

  it('names the path of a field with the wrong type', () => {
    const report = JSON.parse(fixture('tcp-single-flow')) as { end: { sum_received: object } };
    report.end.sum_received = { ...report.end.sum_received, bits_per_second: 'fast' };
    const err = thrown(() => parseIperf3Result(JSON.stringify(report)));
    expect(err.code).toBe('iperf3_bad_output');
    expect(err.message).toContain('end.sum_received.bits_per_second');
  });

  it('refuses a report without end sums, or a UDP report without loss figures', () => {
    expect(thrown(() => parseIperf3Result('{"start":{},"intervals":[],"end":{}}')).message).toContain(
      'end.sum_received',
    );
    const udp = JSON.parse(fixture('udp-100m')) as { end: { sum_received: Record<string, unknown> } };
    delete udp.end.sum_received.lost_packets;
    expect(thrown(() => parseIperf3Result(JSON.stringify(udp))).message).toContain('lost_packets');
  });
});
