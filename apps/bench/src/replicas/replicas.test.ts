// The replicas bench: its pure helpers, and the `--quick` command of benchmarks/README.md run
// as written (real PostgreSQL, replicas, sluice-edge and simulated edges) whose report is
// checked for shape and consistency. Not a measurement: nothing here judges a speed.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { commandResult } from '@sluice/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, RESULTS_DIR } from '../repo-paths.ts';
import { type ConnectionSample, clientPortsTo, peakConnections } from './pg-connections.ts';
import type { ReplicasReport } from './report.ts';

describe('replicas bench helpers', () => {
  it('finds the client ports of the TCP connections a process holds to a port', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const socket: Socket = netConnect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    try {
      expect(clientPortsTo(process.pid, port)).toEqual(new Set([socket.localPort]));
      expect(clientPortsTo(process.pid, 1).size).toBe(0);
    } finally {
      socket.destroy();
      server.close();
    }
  });

  it('keeps the busiest reading per replica, whole', () => {
    const reading = (total: number, idle: number): ConnectionSample => ({
      replicas: {
        A: {
          total,
          oldestTransactionSeconds: 0,
          byState: { idle, 'idle in transaction': total - idle },
          byApplication: { 'sluice-server': total },
        },
      },
    });
    expect(peakConnections([reading(3, 3), reading(6, 2), reading(11, 9)]).replicas.A).toEqual(
      reading(6, 2).replicas.A,
    );
    expect(peakConnections([reading(2, 2), reading(4, 4)]).replicas.A?.total).toBe(4);
  });
});

/** The one shell command of the README's replicas section. */
function documentedCommand(): string {
  const readme = readFileSync(join(REPO_ROOT, 'benchmarks', 'README.md'), 'utf8');
  const start = readme.indexOf('## replicas');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1]!.trim());
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

describe('pnpm bench:replicas --quick, as benchmarks/README.md says', () => {
  const out = join(RESULTS_DIR, 'replicas');
  const before = new Set(existsSync(out) ? readdirSync(out) : []);
  const made = (): string[] => (existsSync(out) ? readdirSync(out).filter((f) => !before.has(f)) : []);
  afterAll(() => {
    for (const file of made()) rmSync(join(out, file), { force: true });
  });

  it('measures (1) to (5) and writes a JSON and a Markdown report', async () => {
    const command = documentedCommand();
    expect(command).toBe('pnpm bench:replicas --quick');
    const child = spawn(command, {
      cwd: REPO_ROOT,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${join(REPO_ROOT, '.tools', 'bin')}:${process.env.PATH ?? ''}` },
    });
    const { code, stdout, stderr } = await commandResult(child, command, 170_000);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('# sluice-server replicas (quick)');

    const files = made().sort();
    expect(files).toHaveLength(2);
    const jsonFile = files.find((f) => f.endsWith('.json'))!;
    expect(files).toContain(jsonFile.replace(/\.json$/, '.md'));
    const report = JSON.parse(readFileSync(join(out, jsonFile), 'utf8')) as ReplicasReport;
    expect(report.kind).toBe('replicas');
    expect(report.errors).toEqual([]);
    expect(report.plan).toMatchObject({
      quick: true,
      pushes: 50,
      failovers: 1,
      replayEdges: 2,
      loadEdges: 50,
    });

    const push = report.pushLatency!;
    for (const series of [push.throughA, push.throughB, push.sqlite!]) {
      expect(series.latency.count).toBe(50);
      expect(series.latency.p50Ms).toBeGreaterThan(0);
      expect(series.latency.p50Ms).toBeLessThanOrEqual(series.latency.p99Ms);
    }
    expect(push.edgeActiveRules).toBe(100);

    const failover = report.failover!;
    expect(failover.rounds).toHaveLength(1);
    expect(failover.rounds[0]!.connectedMs).toBeGreaterThan(0);
    expect(failover.rounds[0]!.appliedMs).toBeGreaterThanOrEqual(failover.rounds[0]!.connectedMs);
    expect(failover.rounds[0]!.rulesApplied).toBe(report.plan.failoverRules);

    const replay = report.replay!;
    expect(replay).toMatchObject({ edges: 2, rulesPerEdge: 50, simulatedEdges: true, rulesActiveAfter: 100 });
    expect(replay.allAckedServerMs).toBeGreaterThanOrEqual(replay.allWelcomedMs);

    expect(report.load.map((l) => l.setup)).toEqual(['sqlite', 'one-replica', 'two-replicas']);
    for (const load of report.load) {
      expect(load.check).toEqual({ edgesConnected: 50, rulesActive: 50 });
      expect(load.rssKiB).toBeGreaterThan(10_000);
      expect(load.servers.reduce((n, s) => n + s.edges, 0)).toBe(50);
    }
    const two = report.load[2]!;
    expect(two.servers.map((s) => [s.label, s.edges])).toEqual([
      ['A', 25],
      ['B', 25],
    ]);
    // Every backend belongs to a replica, each with its pool and its bus connection.
    for (const label of ['A', 'B']) {
      const settled = two.connections!.settled.replicas[label]!;
      expect(settled.byApplication['sluice-replica-bus']).toBe(1);
      expect(settled.byApplication['sluice-server']).toBeGreaterThan(0);
    }
    expect(two.connections!.settled.replicas.other?.total ?? 0).toBe(0);
    expect(report.load[0]!.connections).toBeNull();

    const markdown = readFileSync(join(out, jsonFile.replace(/\.json$/, '.md')), 'utf8');
    for (const heading of [
      '## 1. Push',
      '## 2. Edge failover',
      '## 3. Replay',
      '## 4. Server CPU',
      '## 5. Database',
    ]) {
      expect(markdown).toContain(heading);
    }
    expect(markdown).toContain('edges are simulated');
  }, 180_000);
});
