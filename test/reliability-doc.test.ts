// docs/reliability.md's two commands, run as written: the short soak and the short chaos run.
// Each must pass, and its report must show that it did what the document says it does.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { everyShCommand } from './helpers/doc-commands.ts';
import { REPO_ROOT } from './helpers/edge-process.ts';

const DOC = 'docs/reliability.md';
const SOAK = './run soak --concurrent 300 --churn 3000 --flows 50 --hold-secs 1';
const CHAOS = './run chaos --seconds 45 --rules 2 --min-gap 1 --max-gap 2';
const OUT = join(REPO_ROOT, 'benchmarks', 'out');

function run(command: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)('bash', ['-c', command], {
    cwd: REPO_ROOT,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

function report(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(OUT, name, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

it('documents exactly the two commands this file runs', () => {
  expect(everyShCommand(DOC).map((c) => c.text)).toEqual([SOAK, CHAOS]);
});

it('the short soak holds, churns and carries every transfer intact, and the edge returns to its baseline', {
  timeout: 300_000,
}, async () => {
  const { stderr } = await run(SOAK, 280_000);
  expect(stderr).toContain('soak: passed');
  const result = report('soak') as {
    problems: string[];
    heldOpen: number;
    phases: { name: string; tally?: { intact: number; hashed: number } }[];
    udp: { flows: number; silentFlows: number };
    baseline: { fds: number };
    after: { fds: number; connections: number; flows: number };
    samples: { connections: number; flows: number }[];
  };
  expect(result.problems).toEqual([]);
  expect(result.heldOpen).toBe(300);
  const churn = result.phases.find((p) => p.name === 'churn');
  expect(churn?.tally?.intact).toBe(3000);
  expect(churn?.tally?.hashed).toBe(30);
  expect(Math.max(...result.samples.map((s) => s.connections))).toBeGreaterThanOrEqual(300);
  expect(result.udp).toMatchObject({ flows: 50, silentFlows: 0 });
  expect(result.after).toMatchObject({ connections: 0, flows: 0 });
});

it('the short chaos run kills each victim at least once and finds no violation', {
  timeout: 420_000,
}, async () => {
  const { stderr } = await run(CHAOS, 400_000);
  expect(stderr).toContain('chaos: passed');
  const result = report('chaos') as {
    violations: string[];
    kills: { victim: string; recoveredSeconds: number | null }[];
    tally: { intact: number; hashed: number };
    finalChecks: { ok: boolean }[];
  };
  expect(result.violations).toEqual([]);
  expect(new Set(result.kills.map((k) => k.victim))).toEqual(
    new Set(['shard', 'edge', 'server', 'postgres']),
  );
  expect(result.kills.every((k) => k.recoveredSeconds !== null)).toBe(true);
  expect(result.tally.intact).toBeGreaterThan(0);
  expect(result.tally.hashed).toBeGreaterThan(0);
  expect(result.finalChecks).toEqual([
    { rule: expect.any(String), ok: true, outcome: 'intact' },
    { rule: expect.any(String), ok: true, outcome: 'intact' },
  ]);
});
