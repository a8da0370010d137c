import { describe, expect, it } from 'vitest';
import { contenderColorScale } from './chart-theme.ts';
import { latencyChart, PERCENTILES, rateChart } from './latency-chart.ts';
import { connectionsLabel, memoryChart } from './memory-chart.ts';
import { QOS_ACCURACY, QOS_CPU, qosChart } from './qos-chart.ts';
import { renderSvg } from './render-svg.ts';
import { offeredLabel, type ThroughputPoint, throughputChart } from './throughput-chart.ts';

const summary = (median: number, min = median, max = median, n = 3) => ({ n, median, min, max });

describe('labels', () => {
  it('offered load reads as iperf3 --bitrate does', () => {
    expect([100e6, 1e9, 2.5e9, 20e9, null].map(offeredLabel)).toEqual([
      '100M',
      '1G',
      '2.5G',
      '20G',
      'unlimited',
    ]);
  });

  it('connection counts read as 1k, 4k, 10k', () => {
    expect([1000, 4000, 10_000, 500].map(connectionsLabel)).toEqual(['1k', '4k', '10k', '500']);
  });
});

describe('contender colours', () => {
  it('keep a contender the same colour whatever else the chart shows', () => {
    const a = contenderColorScale([
      { contender: 'direct', label: 'direct' },
      { contender: 'sluice-splice-1', label: 'S1' },
    ]);
    const b = contenderColorScale([{ contender: 'sluice-splice-1', label: 'S1' }]);
    expect(a.range[1]).toBe(b.range[0]);
    expect(a.domain).toEqual(['direct', 'S1']);
  });

  it('give unknown contenders distinct fallback colours', () => {
    const s = contenderColorScale([
      { contender: 'x', label: 'x' },
      { contender: 'y', label: 'y' },
    ]);
    expect(s.range[0]).not.toBe(s.range[1]);
  });
});

describe('charts render to SVG in Node', () => {
  const single: ThroughputPoint[] = [
    {
      contender: 'c-splice',
      label: 'C splice relay',
      offeredBitsPerSecond: null,
      summary: summary(21e9, 19e9, 23e9),
    },
    {
      contender: 'sluice-splice-1',
      label: 'sluice splice',
      offeredBitsPerSecond: null,
      summary: summary(18e9),
    },
  ];

  it('one offered load: a bar per contender with its value', async () => {
    const chart = throughputChart(single, ['iperf3, 3 s']);
    expect(chart.id).toBe('throughput');
    const svg = await renderSvg(chart.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('C splice relay');
    expect(svg).toContain('21.00');
    expect(svg).toContain('Single TCP flow');
  });

  it('a sweep: a line per contender over the offered loads, with the offered reference', async () => {
    const sweep: ThroughputPoint[] = [1e9, 10e9, null].flatMap((offered) =>
      single.map((p) => ({
        ...p,
        offeredBitsPerSecond: offered,
        summary: summary(Math.min(offered ?? 30e9, 18e9)),
      })),
    );
    const chart = throughputChart(sweep, ['sweep']);
    const svg = await renderSvg(chart.spec);
    expect(svg).toContain('against offered load');
    expect(svg).toContain('unlimited');
    expect(svg).toContain('10G');
    expect(svg).toContain('offered');
  });

  it('memory: bars for one count, lines for several', async () => {
    const one = memoryChart(
      [
        { contender: 'haproxy', label: 'HAProxy', connections: 4000, perConnectionKiB: 3.2 },
        { contender: 'sluice-js-1', label: 'sluice JS', connections: 4000, perConnectionKiB: 2.4 },
      ],
      ['rss'],
    );
    expect(await renderSvg(one.spec)).toContain('4000 connections open');
    const many = memoryChart(
      [1000, 4000, 10_000].map((connections) => ({
        contender: 'haproxy',
        label: 'HAProxy',
        connections,
        perConnectionKiB: 3,
      })),
      ['rss'],
    );
    const svg = await renderSvg(many.spec);
    expect(svg).toContain('10k');
  });

  it('latency: a panel per message size and a row per connection count, percentiles along x', async () => {
    const chart = latencyChart(
      ['64 B', '1 KiB'].flatMap((size) =>
        ['10', '100'].flatMap((connections) =>
          PERCENTILES.map((percentile, i) => ({
            contender: 'haproxy',
            label: 'HAProxy',
            size,
            connections,
            percentile,
            microseconds: 50 * 10 ** i,
          })),
        ),
      ),
      ['64 B', '1 KiB'],
      ['10', '100'],
      ['echo target'],
    );
    const svg = await renderSvg(chart.spec);
    expect(svg).toContain('p99.9');
    expect(svg).toContain('1 KiB');
    expect(svg).toContain('connections');
  });

  it('rate: a panel per message size, connections along x', async () => {
    const chart = rateChart(
      [
        {
          contender: 'haproxy',
          label: 'HAProxy',
          size: '64 B',
          connections: '100',
          perSecond: 50_000,
          low: 40_000,
          high: 52_000,
        },
        {
          contender: 'haproxy',
          label: 'HAProxy',
          size: '16 KiB',
          connections: '100',
          perSecond: 20_000,
          low: null,
          high: null,
        },
      ],
      ['64 B', '16 KiB'],
      ['100'],
      ['echo target'],
    );
    const svg = await renderSvg(chart.spec);
    expect(svg).toContain('16 KiB');
    expect(svg).toContain('connections');
  });

  it('qos-cap: measured / cap and CPU per gigabit, a panel per flow count, caps along x', async () => {
    const panels = ['1 flow, rule cap', '8 flows, owner cap'];
    const points = ['10M', '1G'].flatMap((cap) =>
      panels.map((panel) => ({
        contender: 'sluice-splice-1',
        label: 'sluice splice',
        cap,
        panel,
        value: cap === '1G' ? 0.999 : 1.004,
        low: null,
        high: null,
      })),
    );
    const accuracy = qosChart(QOS_ACCURACY, points, ['10M', '1G'], panels, ['iperf3']);
    expect(accuracy.id).toBe('qos-cap');
    const svg = await renderSvg(accuracy.spec);
    expect(svg).toContain('8 flows, owner cap');
    expect(svg).toContain('measured / cap');
    const cpu = qosChart(QOS_CPU, points, ['10M', '1G'], panels, ['iperf3']);
    expect(cpu.id).toBe('qos-cpu');
    expect(await renderSvg(cpu.spec)).toContain('CPU s per Gbit');
  });
});
