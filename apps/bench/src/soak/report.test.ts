// The soak's verdict: each way a run can fall short is named, and a good run has none.

import { describe, expect, it } from 'vitest';
import type { EdgeSample } from './edge-sample.ts';
import { RSS_ALLOWANCE_MIB, soakCsv, soakProblems } from './report.ts';
import type { SoakResult } from './run.ts';
import { emptyTally } from './soak-messages.ts';
import { FULL_SOAK, pooledPipeFds } from './soak-plan.ts';

const plan = { ...FULL_SOAK, concurrent: 10, churn: 20, flows: 2 };

function sample(overrides: Partial<EdgeSample> = {}): EdgeSample {
  return {
    t: 0,
    phase: 'baseline',
    fds: 40,
    pipes: 12,
    rssMiB: 100,
    connections: 0,
    flows: 0,
    shardRestarts: 0,
    clientDone: 0,
    ...overrides,
  };
}

function result(overrides: Partial<SoakResult> = {}): SoakResult {
  const intact = (n: number) => ({ ...emptyTally(), intact: n });
  return {
    plan,
    maxConnections: 200,
    startedAt: '2026-12-04T00:00:00.000Z',
    baseline: sample(),
    after: sample({ phase: 'settle' }),
    phases: [
      { name: 'hold', seconds: 1, tally: intact(10) },
      { name: 'churn', seconds: 1, tally: intact(20) },
      { name: 'udp', seconds: 1 },
    ],
    heldOpen: 10,
    udp: { flows: 2, sent: 40, received: 40, silentFlows: 0 },
    samples: [sample()],
    ...overrides,
  };
}

describe('soakProblems', () => {
  it('finds nothing wrong with a run that carried everything and came back to its baseline', () => {
    expect(soakProblems(result())).toEqual([]);
  });

  it('names each failed transfer kind with its phase and counts', () => {
    const tally = {
      ...emptyTally(),
      intact: 15,
      wrongLength: 2,
      corrupt: 1,
      timedOut: 1,
      errors: { ECONNRESET: 1 },
    };
    expect(soakProblems(result({ phases: [{ name: 'churn', seconds: 1, tally }] }))).toEqual([
      'churn: 5 of 20 failed (2 ended with the wrong length, 1 corrupt, 1 timed out, 1 ECONNRESET)',
    ]);
  });

  it('reports held connections that never opened and silent UDP flows', () => {
    expect(
      soakProblems(result({ heldOpen: 9, udp: { flows: 2, sent: 40, received: 20, silentFlows: 1 } })),
    ).toEqual(['hold: only 9 of 10 connections were open at once', 'udp: 1 of 2 flows got no echo']);
  });

  it('allows the pipes the splice pools keep, but not one descriptor more', () => {
    const kept = pooledPipeFds(plan);
    expect(soakProblems(result({ after: sample({ pipes: 12 + kept, fds: 40 + kept }) }))).toEqual([]);
    expect(soakProblems(result({ after: sample({ pipes: 12 + kept, fds: 41 + kept }) }))).toHaveLength(1);
    expect(soakProblems(result({ after: sample({ pipes: 14 + kept, fds: 42 + kept }) }))).toHaveLength(1);
    expect(soakProblems(result({ after: sample({ connections: 1 }) }))[0]).toContain(
      'still held 1 connections',
    );
    expect(soakProblems(result({ after: sample({ flows: 1 }) }))[0]).toContain('1 flows');
  });

  it('allows RSS up to the allowance over the baseline, and reports a dead shard', () => {
    expect(soakProblems(result({ after: sample({ rssMiB: 100 + RSS_ALLOWANCE_MIB }) }))).toEqual([]);
    expect(soakProblems(result({ after: sample({ rssMiB: 100.1 + RSS_ALLOWANCE_MIB }) }))[0]).toContain(
      'RSS 148.1 MiB',
    );
    expect(soakProblems(result({ after: sample({ shardRestarts: 2 }) }))).toEqual([
      'a shard died 2 time(s) during the soak',
    ]);
  });
});

describe('soakCsv', () => {
  it('writes one row per sample under a header', () => {
    expect(soakCsv([sample({ t: 1.25, connections: 3 })])).toBe(
      'seconds,phase,client_done,connections,flows,fds,pipes,rss_mib,shard_restarts\n1.3,baseline,0,3,0,40,12,100.0,0\n',
    );
  });
});
