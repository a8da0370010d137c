// The edge-memory scenario: its summary arithmetic, and the command of benchmarks/README.md run
// as written (real edges, real bare Node, real HAProxy), checked for a reading of every subject.
// No memory sizes are asserted: the gate in benchmarks/gates.json guards those.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { commandResult, requireProgram } from '@sluice/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, RESULTS_DIR } from '../repo-paths.ts';
import type { BenchReport } from '../report.ts';
import { BARE_NODE, edgeMemoryReport, edgeSubject } from './edge-memory.ts';

describe('edgeMemoryReport', () => {
  const subjects = [1, 2, 4].map((n) => ({ id: edgeSubject(n), label: `${n}` }));
  const list = [...subjects, { id: BARE_NODE, label: 'bare' }];

  it('takes medians, divides by bare Node, and spreads the 1-to-4-shard growth over 3 shards', () => {
    const runs = new Map([
      [edgeSubject(1), [{ rssKiB: 100, pssKiB: 50 }, null, { rssKiB: 110, pssKiB: 55 }]],
      [edgeSubject(2), [{ rssKiB: 120, pssKiB: 60 }]],
      [edgeSubject(4), [{ rssKiB: 160, pssKiB: 90 }]],
      [BARE_NODE, [{ rssKiB: 80, pssKiB: 30 }]],
    ]);
    const failure = { code: 'memory_unreadable', message: 'gone' } as const;
    const report = edgeMemoryReport(list, runs, new Map([[edgeSubject(1), [failure]]]), {
      shardCounts: [1, 2, 4],
      repeats: 3,
    });
    expect(report.rows.map((r) => [r.subject, r.rss?.median, r.vsBareNode])).toEqual([
      ['sluice-1-shard', 105, 105 / 80],
      ['sluice-2-shards', 120, 1.5],
      ['sluice-4-shards', 160, 2],
      [BARE_NODE, 80, 1],
    ]);
    expect(report.rows[0]?.runErrors).toEqual([failure]);
    expect(report.perShardRssKiB).toBe((160 - 105) / 3);
  });

  it('has no per-shard figure when a shard count failed every run', () => {
    const runs = new Map([
      [edgeSubject(1), [{ rssKiB: 100, pssKiB: 50 }]],
      [edgeSubject(4), [null]],
    ]);
    const report = edgeMemoryReport(list, runs, new Map(), { shardCounts: [1, 2, 4], repeats: 1 });
    expect(report.perShardRssKiB).toBeNull();
    expect(report.rows.find((r) => r.subject === BARE_NODE)?.rss).toBeNull();
    expect(report.rows[0]?.vsBareNode).toBeNull();
  });
});

function documentedCommand(): string {
  const readme = readFileSync(join(REPO_ROOT, 'benchmarks', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf("## the edge's own memory"));
  const blocks = [...section.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1]!.trim());
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

describe("the edge's own memory, as benchmarks/README.md runs it", () => {
  const before = new Set(existsSync(RESULTS_DIR) ? readdirSync(RESULTS_DIR) : []);
  const made = (): string[] =>
    existsSync(RESULTS_DIR) ? readdirSync(RESULTS_DIR).filter((f) => !before.has(f)) : [];
  afterAll(() => {
    for (const file of made()) rmSync(join(RESULTS_DIR, file), { recursive: true, force: true });
  });

  it('reads every subject in every repeat: sluice at 1, 2 and 4 shards, bare Node, HAProxy', async () => {
    requireProgram('haproxy');
    const command = documentedCommand();
    expect(command).toBe('pnpm bench --only edge-memory --contenders sluice-splice-1,haproxy');
    const child = spawn(command, {
      cwd: REPO_ROOT,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${join(REPO_ROOT, '.tools', 'bin')}:${process.env.PATH ?? ''}` },
    });
    const { code, stdout, stderr } = await commandResult(child, command, 120_000);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("### The idle edge's own memory");

    const jsonFile = made().find((f) => f.endsWith('.json'));
    expect(jsonFile).toBeDefined();
    const report = JSON.parse(readFileSync(join(RESULTS_DIR, jsonFile!), 'utf8')) as BenchReport;
    const memory = report.edgeMemory!;
    expect(memory.rows.map((r) => r.subject)).toEqual([
      'sluice-1-shard',
      'sluice-2-shards',
      'sluice-4-shards',
      BARE_NODE,
      'haproxy',
    ]);
    for (const row of memory.rows) {
      expect(row.runErrors, row.subject).toEqual([]);
      expect(row.rss?.n, row.subject).toBe(memory.repeats);
      expect(row.pss?.n, row.subject).toBe(memory.repeats);
    }
    expect(memory.perShardRssKiB).not.toBeNull();
  }, 130_000);
});
