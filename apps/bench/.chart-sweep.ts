import { writeFileSync } from 'node:fs';
import { renderSvg } from './src/charts/render-svg.ts';
import { throughputChart } from './src/charts/throughput-chart.ts';
const contenders: [string, string, number][] = [['direct','direct',25e9],['redirect','iptables REDIRECT',20e9],['c-splice','C splice relay (ceiling)',21e9],['naive-pipe','naive pipe (node)',7e9],['sluice-splice-1','sluice splice, 1 shard',18e9],['sluice-splice-N','sluice splice, 2 shards',18.5e9],['sluice-js-1','sluice JS, 1 shard',7.5e9],['sluice-js-N','sluice JS, 2 shards',8e9],['haproxy','HAProxy (mode tcp, 2 threads)',11e9],['nginx','nginx stream (2 workers)',9e9],['socat','socat (fork)',4e9]];
const offered = [100e6, 1e9, 2.5e9, 5e9, 10e9, 15e9, 20e9, null];
const pts = offered.flatMap((o) => contenders.map(([id, label, cap]) => { const m = Math.min(o ?? 1e12, cap) * (0.97 + Math.random()*0.03); return { contender: id, label, offeredBitsPerSecond: o, summary: { n: 3, median: m, min: m*0.9, max: m*1.03 } }; }));
writeFileSync('/tmp/sweep.svg', await renderSvg(throughputChart(pts, ['iperf3 over 127.0.0.1, 10 s per run, median of 3 (whiskers: min–max); higher is better', 'AMD EPYC, 2 cores · Linux 6.18 · 2026-11-23']).spec));
