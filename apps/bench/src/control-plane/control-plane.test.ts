// The control-plane bench: its pure helpers, and one `--quick` run of the real CLI end to end (a
// real sluice-server and sluice-edge, ten simulated edges) whose report is checked for shape and
// consistency. Not a measurement: nothing here judges a speed.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandResult, removeDir, tempDir } from '@sluice/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLogLine } from '../log-line.ts';
import { NODE_BIN, REPO_ROOT } from '../repo-paths.ts';
import { percentile, summarizeLatency } from './latency.ts';
import { PortSource, QUICK_CONTROL_PLAN, rulesHeldAtEnd } from './plan.ts';
import type { ControlPlaneReport } from './report.ts';

describe('control-plane bench helpers', () => {
  it('reads percentiles at nearest rank', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(500);
    expect(percentile(sorted, 0.99)).toBe(990);
    expect(percentile(sorted, 1)).toBe(1000);
    expect(percentile([7], 0.99)).toBe(7);
    expect(summarizeLatency([3, 1, 2])).toEqual({
      count: 3,
      minMs: 1,
      p50Ms: 2,
      p90Ms: 3,
      p99Ms: 3,
      maxMs: 3,
      meanMs: 2,
    });
    expect(summarizeLatency([])).toBeNull();
  });

  it('counts the rules held at the end as the last level and its timed pushes', () => {
    expect(rulesHeldAtEnd({ levels: [1, 1000, 10_000], pushes: 200 })).toBe(10_200);
    expect(rulesHeldAtEnd(QUICK_CONTROL_PLAN)).toBe(150);
  });

  it('hands out ports below the end, skipping taken ones', () => {
    const ports = new PortSource(100, 104, new Set([101, 103]));
    expect([ports.next(), ports.next()]).toEqual([100, 102]);
    expect(() => ports.next()).toThrow(RangeError);
  });

  it('parses pino lines and nothing else', () => {
    expect(
      parseLogLine('{"level":30,"time":1700000000000,"msg":"edge ready","mode":"managed"}'),
    ).toMatchObject({
      msg: 'edge ready',
      time: 1_700_000_000_000,
      mode: 'managed',
    });
    expect(parseLogLine('admin token: abc')).toBeNull();
    expect(parseLogLine('[1,2]')).toBeNull();
    expect(parseLogLine('{"msg":"no time"}')).toBeNull();
  });
});

describe('pnpm bench:control --quick', () => {
  const out = tempDir('sluice-bench-control-test-');
  afterAll(() => removeDir(out));

  it('measures (a), (b) and (c) and writes a JSON and a Markdown report', async () => {
    const main = join(REPO_ROOT, 'apps', 'bench', 'src', 'control-plane-main.ts');
    const child = spawn(NODE_BIN, [main, '--quick', '--out', out], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { code, stdout, stderr } = await commandResult(child, 'pnpm bench:control --quick', 110_000);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('# sluice control plane (quick)');

    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    const jsonFile = files.find((f) => f.endsWith('.json'))!;
    expect(files).toContain(jsonFile.replace(/\.json$/, '.md'));
    const report = JSON.parse(readFileSync(join(out, jsonFile), 'utf8')) as ControlPlaneReport;
    expect(report.kind).toBe('control-plane');
    expect(report.errors).toEqual([]);
    expect(report.plan).toMatchObject({
      quick: true,
      levels: [1, 100],
      pushes: 50,
      warmup: 20,
      edges: 10,
      rules: 100,
    });
    expect(report.loadAverage.start).toHaveLength(3);

    const push = report.pushLatency!;
    expect(push.pushes).toBe(100);
    expect(push.rulesHeld).toBe(150);
    expect(push.samplesMs).toHaveLength(100);
    expect(push.latency.count).toBe(100);
    expect(push.latency.p50Ms).toBeGreaterThan(0);
    expect(push.latency.p50Ms).toBeLessThanOrEqual(push.latency.p99Ms);
    expect(push.latency.p99Ms).toBeLessThanOrEqual(push.latency.maxMs);
    expect(push.serverLatency?.count).toBe(100);
    expect(push.byLevel.map((l) => [l.rulesHeld, l.latency.count, l.serverLatency?.count])).toEqual([
      [1, 50, 50],
      [100, 50, 50],
    ]);
    expect(push.pushesPerSecond).toBeGreaterThan(0);
    // The warm-up's rules were pushed untimed and removed again: none is held or counted.
    expect(push.warmupPushes).toBe(20);
    expect(push.firstPushMs).toBeGreaterThan(0);
    expect(push.edgeActiveRules).toBe(150);
    expect(push.serverActiveRules).toBe(150);

    const replay = report.replay!;
    expect(replay.rules).toBe(150);
    expect(replay.ackedResults).toBe(150);
    expect(replay.ackedFailed).toBe(0);
    expect(replay.startToAckedMs).toBeGreaterThan(0);
    // The metrics are read after the ack; the rules file (written after the pushes) came first.
    expect(replay.startToAllActiveMs).toBeGreaterThanOrEqual(replay.startToAckedMs);
    expect(replay.startToResumedMs).toBeGreaterThan(0);
    expect(replay.startToResumedMs).toBeLessThanOrEqual(replay.startToAckedMs);
    // The edge's span (welcome received to full push applied) lies inside the server's (edge
    // connected, before welcome, to the ack received), both on this host's clock; applying 150
    // rules takes more than the clock's millisecond.
    expect(replay.edgeReplayMs).toBeGreaterThan(0);
    expect(replay.serverReplayMs).toBeGreaterThanOrEqual(replay.edgeReplayMs!);
    // The restarted edge resumes its rules file before its session, so its rules may be active
    // before or after `control connected`: both are measured from the spawn.
    expect(replay.startToControlConnectedMs).toBeGreaterThan(0);
    expect(replay.startToEdgeReadyMs).toBeGreaterThan(0);

    const memory = report.serverMemory!;
    expect(memory).toMatchObject({ edges: 10, rules: 100, simulatedEdges: true, settleSeconds: 6 });
    for (const reading of [memory.idle, memory.edgesConnected, memory.rulesActive, memory.settled]) {
      expect(reading.rssKiB).toBeGreaterThan(10_000);
      expect(reading.pssKiB).toBeGreaterThan(0);
    }
    expect(memory.settleSamples).toHaveLength(6);
    expect(memory.check.edgesConnected).toBe(10);
    expect(memory.check.rulesActive).toBe(100);
    expect(memory.check.statsReports).toBeGreaterThanOrEqual(10);
    expect(memory.check.sampleRuleStatsAt).not.toBeNull();

    const markdown = readFileSync(join(out, jsonFile.replace(/\.json$/, '.md')), 'utf8');
    expect(markdown).toContain('## (a) Push to Active');
    expect(markdown).toContain('## (b) Replay');
    expect(markdown).toContain('edges are simulated');
  }, 120_000);
});
