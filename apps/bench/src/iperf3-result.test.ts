import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BenchError } from './errors.ts';
import { parseIperf3TcpResult } from './iperf3-result.ts';

// Recorded from iperf3 3.12 on loopback: `iperf3 -c 127.0.0.1 -p P -t 2 -J`, once against a
// server and once against a closed port.
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

function thrown(run: () => unknown): BenchError {
  try {
    run();
  } catch (err) {
    if (err instanceof BenchError) return err;
    throw err;
  }
  throw new Error('expected a BenchError');
}

describe('parseIperf3TcpResult', () => {
  it('reads the received rate and the run around it from a single-flow TCP run', () => {
    const result = parseIperf3TcpResult(fixture('iperf3-tcp-single-flow.json'));
    expect(result).toEqual({
      version: 'iperf 3.12',
      streams: 1,
      reverse: false,
      receivedBitsPerSecond: 29140696823.037666,
      receivedBytes: 7286292480,
      seconds: 2.000307,
      sentBitsPerSecond: 29141061030.394714,
      retransmits: 0,
      cpuClientPercent: 98.8833427674574,
      cpuServerPercent: 63.98038920636476,
    });
  });

  it('turns the "error" key of a refused connection into iperf3_failed (iperf3 exits 0 there)', () => {
    const err = thrown(() => parseIperf3TcpResult(fixture('iperf3-connection-refused.json')));
    expect(err.code).toBe('iperf3_failed');
    expect(err.message).toBe('iperf3 client failed: unable to connect to server: Connection refused');
  });

  it('names what is wrong with output that is not JSON', () => {
    const err = thrown(() => parseIperf3TcpResult('iperf3: error - unable to connect'));
    expect(err.code).toBe('iperf3_bad_output');
    expect(err.message).toMatch(/not JSON .*: iperf3: error - unable to connect$/);
    expect(thrown(() => parseIperf3TcpResult('')).message).toMatch(/\(empty\)$/);
  });

  it('names the path of a field with the wrong type', () => {
    const report = JSON.parse(fixture('iperf3-tcp-single-flow.json')) as { end: { sum_received: object } };
    report.end.sum_received = { ...report.end.sum_received, bits_per_second: 'fast' };
    const err = thrown(() => parseIperf3TcpResult(JSON.stringify(report)));
    expect(err.code).toBe('iperf3_bad_output');
    expect(err.message).toContain('end.sum_received.bits_per_second');
  });

  it('refuses a report without end sums', () => {
    const err = thrown(() => parseIperf3TcpResult('{"start":{},"intervals":[],"end":{}}'));
    expect(err.code).toBe('iperf3_bad_output');
    expect(err.message).toContain('end.sum_received');
  });
});
