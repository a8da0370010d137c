import { Worker } from 'node:worker_threads';
import type { LimitsSpec } from '@sluice/config';
import { describe, expect, it } from 'vitest';
import { QOS_FIELD } from './qos-layout.ts';
import { QosTable } from './qos-table.ts';
import { tokens } from './token-bucket.ts';

const NONE: LimitsSpec = {
  bandwidthIn: null,
  bandwidthOut: null,
  newConnectionsPerSec: null,
  newConnectionsBurst: null,
  maxConnections: null,
};
const S = 1_000_000_000n;

function table(): QosTable {
  return new QosTable(QosTable.allocate(8, 4, 2));
}

/** Two threads admit against the same entities at once; returns what each got. */
async function admitFromTwoThreads(qos: QosTable, jobs: { owner: number; rule: number }[], attempts: number) {
  const start = new Int32Array(new SharedArrayBuffer(8));
  const workers = jobs.map(
    (job, shard) =>
      new Worker(new URL('./admit-worker.fixture.ts', import.meta.url), {
        workerData: { qos: qos.buffer, start: start.buffer, ...job, attempts, shard },
      }),
  );
  const results = workers.map(
    (w) => new Promise<number>((resolve, reject) => w.once('message', resolve).once('error', reject)),
  );
  // Both wait at the line before either starts: no sleeps, the race is real.
  while (Atomics.load(start, 1) < workers.length) Atomics.wait(start, 1, Atomics.load(start, 1), 1000);
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const counts = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return counts;
}

describe('QosTable', () => {
  it('admits exactly max_connections across two threads racing for them', async () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(3);
    qos.configure(rule, { ...NONE, maxConnections: 100 });
    const counts = await admitFromTwoThreads(
      qos,
      [
        { owner, rule },
        { owner, rule },
      ],
      20_000,
    );
    expect(counts[0]! + counts[1]!).toBe(100);
    expect(qos.active(rule)).toBe(100);
    expect(qos.active(owner)).toBe(100);
  });

  it('an owner cap shared by two rules holds for their sum, across threads', async () => {
    const qos = table();
    const owner = qos.owner(1);
    qos.configure(owner, { ...NONE, maxConnections: 50 });
    const a = qos.rule(0);
    const b = qos.rule(1);
    qos.configure(a, { ...NONE, maxConnections: 40 });
    const counts = await admitFromTwoThreads(
      qos,
      [
        { owner, rule: a },
        { owner, rule: b },
      ],
      5_000,
    );
    expect(counts[0]! + counts[1]!).toBe(50);
    expect(counts[0]).toBeLessThanOrEqual(40);
    expect(qos.active(a) + qos.active(b)).toBe(50);
  });

  it('checks the owner before the rule and names which cap refused', () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    qos.configure(owner, { ...NONE, maxConnections: 2 });
    qos.configure(rule, { ...NONE, maxConnections: 1 });
    expect(qos.admit(owner, rule)).toBeNull();
    expect(qos.admit(owner, rule)).toBe('rule_max_connections');
    // The refused attempt took nothing: the owner still has one place.
    expect(qos.active(owner)).toBe(1);
    const other = qos.rule(1);
    expect(qos.admit(owner, other)).toBeNull();
    expect(qos.admit(owner, other)).toBe('owner_max_connections');
    qos.release(owner, rule);
    expect(qos.admit(owner, other)).toBeNull();
  });

  it('refuses over the connection rate, owner first, and a refusal costs no token', () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    const t = 100n * S;
    qos.configure(owner, { ...NONE, newConnectionsPerSec: 10, newConnectionsBurst: 3 }, t);
    qos.configure(rule, { ...NONE, newConnectionsPerSec: 1, newConnectionsBurst: 2 }, t);
    expect(qos.admit(owner, rule, t)).toBeNull();
    expect(qos.admit(owner, rule, t)).toBeNull();
    expect(qos.admit(owner, rule, t)).toBe('rule_connection_rate');
    // The rule refused, so the owner's third token is still there for another rule.
    expect(tokens(qos.words, owner + QOS_FIELD.CONNECTION_RATE, t)).toBe(1n);
    expect(qos.admit(owner, qos.rule(1), t)).toBeNull();
    expect(qos.admit(owner, qos.rule(1), t)).toBe('owner_connection_rate');
    expect(qos.active(owner)).toBe(3);
  });

  it('lowering max_connections closes nothing and refuses until below the new cap', () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    for (let i = 0; i < 5; i++) expect(qos.admit(owner, rule)).toBeNull();
    qos.configure(rule, { ...NONE, maxConnections: 3 });
    expect(qos.active(rule)).toBe(5);
    expect(qos.admit(owner, rule)).toBe('rule_max_connections');
    qos.release(owner, rule);
    qos.release(owner, rule);
    qos.release(owner, rule);
    expect(qos.admit(owner, rule)).toBeNull();
  });

  it('charges bytes to owner and rule and holds them for the slower of the two', () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    const t = 100n * S;
    const bw = (bytesPerSec: number) => ({ bytesPerSec, burstBytes: bytesPerSec });
    qos.configure(owner, { ...NONE, bandwidthOut: bw(1000) }, t);
    qos.configure(rule, { ...NONE, bandwidthOut: bw(500) }, t);
    expect(qos.bandwidthCapped(owner, rule, QOS_FIELD.BANDWIDTH_IN)).toBe(false);
    expect(qos.bandwidthCapped(owner, rule, QOS_FIELD.BANDWIDTH_OUT)).toBe(true);
    expect(qos.chargeBytes(owner, rule, QOS_FIELD.BANDWIDTH_OUT, 400, t)).toBe(0n);
    // 800 charged: the owner (burst 1000) is fine, the rule (burst 500) is 300 B = 0.6 s over.
    expect(qos.chargeBytes(owner, rule, QOS_FIELD.BANDWIDTH_OUT, 400, t)).toBe(600_000_000n);
  });

  it('forget takes a dead shard connections off the count; reset clears an entity', () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    for (let i = 0; i < 4; i++) qos.admit(owner, rule);
    qos.forget(rule, 3);
    expect(qos.active(rule)).toBe(1);
    qos.configure(rule, { ...NONE, maxConnections: 1 });
    qos.reset(rule);
    expect(qos.active(rule)).toBe(0);
    expect(qos.admit(owner, rule)).toBeNull();
    expect(qos.admit(owner, rule)).toBeNull();
  });

  it('UDP: max_flows refuses as rule_max_flows, apart from max_connections', () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    expect(qos.admit(owner, rule, undefined, 2)).toBeNull();
    expect(qos.admit(owner, rule, undefined, 2)).toBeNull();
    expect(qos.admit(owner, rule, undefined, 2)).toBe('rule_max_flows');
    qos.configure(rule, { ...NONE, maxConnections: 1 });
    expect(qos.admit(owner, rule, undefined, 2)).toBe('rule_max_connections');
    expect(qos.active(owner)).toBe(2);
  });

  it('UDP: a datagram over either budget is refused whole and costs the other nothing', () => {
    const qos = table();
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    const t = 100n * S;
    qos.configure(owner, { ...NONE, bandwidthIn: { bytesPerSec: 10_000, burstBytes: 10_000 } }, t);
    qos.configure(rule, { ...NONE, bandwidthIn: { bytesPerSec: 1000, burstBytes: 1500 } }, t);
    expect(qos.takeDatagram(owner, rule, QOS_FIELD.BANDWIDTH_IN, 1000, t)).toBeNull();
    expect(qos.takeDatagram(owner, rule, QOS_FIELD.BANDWIDTH_IN, 1000, t)).toBe('bandwidth');
    expect(tokens(qos.words, owner + QOS_FIELD.BANDWIDTH_IN, t)).toBe(9000n);
    expect(qos.takeDatagram(owner, rule, QOS_FIELD.BANDWIDTH_IN, 500, t)).toBeNull();
  });

  it('forgetShard takes a dead shard connections off each owner they were admitted under', () => {
    const buffer = QosTable.allocate(8, 4, 2);
    const supervisor = new QosTable(buffer);
    const shard0 = new QosTable(buffer, 0);
    const shard1 = new QosTable(buffer, 1);
    const alpha = supervisor.owner(0);
    const beta = supervisor.owner(1);
    const rule = supervisor.rule(0);
    // Two connections admitted under alpha on shard 0; the rule then moves to beta, which
    // admits one on each shard.
    shard0.admit(alpha, rule);
    shard0.admit(alpha, rule);
    shard0.admit(beta, rule);
    shard1.admit(beta, rule);
    supervisor.forgetShard(0);
    expect(supervisor.active(alpha)).toBe(0);
    expect(supervisor.active(beta)).toBe(1);
    shard1.release(beta, rule);
    expect(supervisor.active(beta)).toBe(0);
    supervisor.forgetShard(1);
    expect(supervisor.active(beta)).toBe(0);
  });
});
