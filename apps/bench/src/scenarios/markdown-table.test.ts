import type { Iperf3TcpResult, Iperf3UdpResult } from '@sluice/iperf3';
import { describe, expect, it } from 'vitest';
import { scenarioTables } from '../report-markdown.ts';
import { cell } from './markdown-table.ts';
import { type MatrixRow, type MatrixRun, matrixRows } from './matrix.ts';
import {
  QOS_CAP_METRICS,
  type QosCapDetail,
  type QosCapMetric,
  type QosCapReport,
  qosCapPointLabel,
  qosCapPoints,
} from './qos-cap.ts';
import { noScenarioReports } from './registry.ts';
import type { UdpMetric, UdpReport } from './udp.ts';

const none = noScenarioReports();

function udpRow(contender: string, mbits: number | null): MatrixRow<number, UdpMetric, Iperf3UdpResult> {
  const summary = (v: number) => ({ n: 1, median: v, min: v, max: v });
  return {
    contender,
    label: contender,
    point: 1e8,
    pointLabel: '100M',
    runs: [
      mbits === null
        ? {
            repeat: 1,
            metrics: null,
            detail: null,
            error: { code: 'iperf3_client_failed', message: 'iperf3 client failed: x\ny' },
          }
        : {
            repeat: 1,
            metrics: { bitsPerSecond: mbits * 1e6, lostPercent: 0.5, jitterMs: 0.01 },
            detail: null,
            error: null,
          },
    ],
    summary:
      mbits === null
        ? { bitsPerSecond: null, lostPercent: null, jitterMs: null }
        : { bitsPerSecond: summary(mbits * 1e6), lostPercent: summary(0.5), jitterMs: summary(0.01) },
    vsDirect: { bitsPerSecond: mbits === null ? null : mbits / 100, lostPercent: null, jitterMs: null },
    vsRedirect: { bitsPerSecond: null, lostPercent: null, jitterMs: null },
  };
}

describe('cell', () => {
  it('gives the median, with min–max only when there were repeats', () => {
    expect(cell({ n: 1, median: 9.81e9, min: 9.81e9, max: 9.81e9 }, 2, 1e9)).toBe('9.81');
    expect(cell({ n: 3, median: 9.81e9, min: 9.6e9, max: 9.95e9 }, 2, 1e9)).toBe('9.81 (9.60–9.95)');
    expect(cell(null, 2)).toBe('–');
  });
});

describe('scenarioTables', () => {
  it('renders a UDP table with failures and not-applicable contenders grouped by reason in the notes', () => {
    const udp: UdpReport = {
      seconds: 2,
      repeats: 1,
      length: 1400,
      socketBuffer: 4_194_304,
      points: [1e8],
      rows: [udpRow('direct', 100), udpRow('socat', null)],
      notApplicable: [
        { contender: 'c-splice', label: 'a', reason: 'a TCP splice(2) relay' },
        { contender: 'haproxy', label: 'b', reason: 'HAProxy does not relay UDP' },
        { contender: 'naive-pipe', label: 'c', reason: 'a TCP splice(2) relay' },
      ],
    };
    const { lines, notes } = scenarioTables({ ...none, udp });
    expect(lines).toContain(
      '### UDP: iperf3 -u, 1400-byte datagrams, 4 MiB socket buffers, 2 s, median of 1',
    );
    expect(scenarioTables({ ...none, udp: { ...udp, socketBuffer: 1000 } }).lines).toContain(
      '### UDP: iperf3 -u, 1400-byte datagrams, 1000 B socket buffers, 2 s, median of 1',
    );
    expect(lines).toContain('| direct | 100M | 100 | 0.50 | 0.010 | 1.00 | – |');
    expect(lines).toContain('| socat | 100M | failed (iperf3_client_failed) | – | – | – | – |');
    expect(notes).toEqual([
      'udp, socat, 100M, run 1: iperf3_client_failed: iperf3 client failed: x',
      'udp: not applicable to c-splice, naive-pipe (a TCP splice(2) relay); haproxy (HAProxy does not relay UDP)',
    ]);
  });

  it('renders qos-cap as measured / cap with CPU, noting figures off target and why there are no ratios', () => {
    const points = qosCapPoints([10e6], 8);
    const run = (
      ofCap: number,
      cpuPercent: number,
      clientSeconds: number,
    ): MatrixRun<QosCapMetric, QosCapDetail> => ({
      repeat: 1,
      metrics: {
        bitsPerSecond: ofCap * 10e6,
        ofCap,
        cpuPercent,
        cpuSecondsPerGbit: cpuPercent / 100 / (ofCap * 0.01),
      },
      detail: { iperf3: {} as Iperf3TcpResult, clientSeconds, cpu: null },
      error: null,
    });
    const key = (c: string, p: (typeof points)[number]) => `${c}\u0000${qosCapPointLabel(p)}`;
    const runs = new Map([
      [key('sluice-splice-1', points[0]!), [run(0.999, 1, 12.2)]],
      [key('sluice-splice-1', points[1]!), [run(0.95, 2, 31.6)]],
    ]);
    const qosCap: QosCapReport = {
      seconds: 10,
      omitSeconds: 2,
      repeats: 1,
      caps: [10e6],
      streams: 8,
      burstSeconds: 1,
      target: 0.02,
      points,
      rows: matrixRows(
        [{ id: 'sluice-splice-1', label: 'S1' }],
        QOS_CAP_METRICS,
        points,
        qosCapPointLabel,
        runs,
      ),
      notApplicable: [{ contender: 'direct', label: 'direct', reason: 'no cap' }],
    };
    const { lines, notes } = scenarioTables({ ...none, qosCap });
    expect(lines[0]).toContain('10 s after 2 s omitted');
    expect(lines[2]).toContain('--omit leaves the first 2 s out');
    expect(lines).toContain('| S1 | 10 | 1 | rule | 9.99 | 0.9990 | 1.0 | 1.001 |');
    expect(lines).toContain('| S1 | 10 | 8 | owner | 9.50 | 0.9500 | 2.0 | 2.105 |');
    expect(notes[0]).toBe('qos-cap: not applicable to direct (no cap)');
    expect(notes[1]).toBe(
      'qos-cap, sluice-splice-1, 10M · 8 flows, owner cap: measured / cap 0.9500, outside the ±2 % target',
    );
    expect(notes[2]).toMatch(
      /^qos-cap, sluice-splice-1, 10M · 8 flows, owner cap: iperf3 took up to 32 s for a 12 s test: /,
    );
    expect(notes[3]).toContain('instead of × direct and × REDIRECT');
    expect(notes).toHaveLength(4);
  });

  it('renders nothing for scenarios that did not run', () => {
    expect(scenarioTables(none)).toEqual({ lines: [], notes: [] });
  });
});
