// `./run chaos`: transfers run without pause over the edge's rules while, one at a time and at
// random moments, a shard, the edge, the server or PostgreSQL is killed and comes back. Watched
// throughout, and each a violation:
//   - a transfer that ended cleanly with the wrong length (a cut passed off as a finish), one
//     whose sha256 differs, or one that hangs: a cut transfer must end in an error (a reset);
//   - a rule the server or the edge no longer has active once the system has recovered;
//   - a counter that went backwards: the server's per-rule totals (which fold the edge's boot
//     ids) at any time, the edge's own connections_total within one edge process;
//   - a kill the system does not recover from within `recoverSeconds`.

import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '@sluice/test-kit';
import { emptyTally, type TransferTally } from '../soak/soak-messages.ts';
import { PayloadPool, runTransfer, runTransfers } from '../soak/transfer.ts';
import { ChaosCluster } from './chaos-cluster.ts';
import { type ChaosPlan, killOrder, type Victim } from './chaos-plan.ts';

const TRANSFER_DEADLINE_MS = 30_000;
const COUNTERS = ['bytesIn', 'bytesOut', 'connectionsTotal', 'rejected', 'connectErrors'] as const;

export interface KillEvent {
  /** Seconds since the load started. */
  readonly t: number;
  readonly victim: Victim;
  readonly what: string;
  /** From the kill to everything back, or null when it did not come back in time. */
  readonly recoveredSeconds: number | null;
}

export interface ChaosResult {
  readonly plan: ChaosPlan;
  readonly startedAt: string;
  readonly seconds: number;
  readonly kills: readonly KillEvent[];
  readonly tally: TransferTally;
  /** One transfer through each rule after the last recovery. */
  readonly finalChecks: readonly { readonly rule: string; readonly ok: boolean; readonly outcome: string }[];
  readonly counterSamples: number;
  readonly violations: readonly string[];
}

class CounterWatch {
  readonly violations: string[] = [];
  samples = 0;
  readonly #server = new Map<string, number>();
  readonly #edge = new Map<string, number>();

  async sample(cluster: ChaosCluster, t: number): Promise<void> {
    for (const id of cluster.ruleIds) {
      let stats: Record<string, unknown>;
      try {
        stats = (await cluster.server.api.ruleStats(id)) as unknown as Record<string, unknown>;
      } catch {
        return; // the server is down; the next sample reads it again
      }
      for (const name of COUNTERS) this.#check(this.#server, `server ${id} ${name}`, Number(stats[name]), t);
    }
    const edge = await cluster.edgeView();
    if (edge !== null) {
      for (const [rule, total] of Object.entries(edge.connectionsTotal)) {
        this.#check(this.#edge, `edge pid ${edge.pid} ${rule} connections_total`, total, t);
      }
    }
    this.samples++;
  }

  #check(seen: Map<string, number>, key: string, value: number, t: number): void {
    const before = seen.get(key);
    if (before !== undefined && value < before) {
      this.violations.push(`at ${t.toFixed(1)} s ${key} went back from ${before} to ${value}`);
    }
    seen.set(key, Math.max(before ?? value, value));
  }
}

async function recover(cluster: ChaosCluster, deadline: number): Promise<string | null> {
  let missing = await cluster.missing();
  while (missing !== null && Date.now() < deadline) {
    await sleep(250);
    missing = await cluster.missing();
  }
  return missing;
}

export async function runChaos(plan: ChaosPlan, log: (line: string) => void): Promise<ChaosResult> {
  const startedAt = new Date().toISOString();
  const cluster = await ChaosCluster.start(plan, log);
  const violations: string[] = [];
  const kills: KillEvent[] = [];
  const tally = emptyTally();
  const watch = new CounterWatch();
  const random = seededRandom(plan.seed);
  const nextVictim = killOrder(plan, random);
  const pool = new PayloadPool();
  try {
    const ready = await recover(cluster, Date.now() + plan.recoverSeconds * 1000);
    if (ready !== null) throw new Error(`the chaos set-up never came up: ${ready}`);
    log(`${plan.rules} rules active on the edge; load and kills for ${plan.seconds} s`);
    const started = Date.now();
    const elapsed = (): number => (Date.now() - started) / 1000;
    let stopping = false;
    let rule = 0;
    const load = runTransfers({
      port: () => cluster.rulePorts[rule++ % cluster.rulePorts.length]!,
      total: Number.MAX_SAFE_INTEGER,
      concurrency: plan.lanes,
      sampleEvery: plan.sampleEvery,
      deadlineMs: TRANSFER_DEADLINE_MS,
      pool,
      stop: () => stopping,
      onDone: (outcome) => {
        if (outcome.kind === 'wrongLength') {
          violations.push(
            `at ${elapsed().toFixed(1)} s a transfer ended cleanly with ${outcome.received} of ${outcome.sent} bytes`,
          );
        } else if (outcome.kind === 'corrupt') {
          violations.push(
            `at ${elapsed().toFixed(1)} s a transfer of ${outcome.bytes} bytes came back with another sha256`,
          );
        } else if (outcome.kind === 'timedOut') {
          violations.push(
            `at ${elapsed().toFixed(1)} s a transfer neither finished nor failed in ${TRANSFER_DEADLINE_MS / 1000} s`,
          );
        }
      },
    }).then((result) => Object.assign(tally, result));
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await watch.sample(cluster, elapsed());
        await sleep(1000);
      }
    })();
    while (elapsed() < plan.seconds) {
      const gap = plan.minGapSeconds + random() * (plan.maxGapSeconds - plan.minGapSeconds);
      await sleep(Math.min(gap, Math.max(0, plan.seconds - elapsed())) * 1000);
      if (elapsed() >= plan.seconds) break;
      const victim = nextVictim();
      const at = elapsed();
      const what = await cluster.kill(victim, random);
      const missing = await recover(cluster, Date.now() + plan.recoverSeconds * 1000);
      const recoveredSeconds = missing === null ? elapsed() - at : null;
      kills.push({ t: at, victim, what, recoveredSeconds });
      log(
        `killed ${what} at ${at.toFixed(1)} s: ${missing === null ? `back in ${recoveredSeconds!.toFixed(1)} s` : `not back: ${missing}`}`,
      );
      if (missing !== null) {
        violations.push(
          `after killing ${what} at ${at.toFixed(1)} s the system did not recover in ${plan.recoverSeconds} s: ${missing}`,
        );
        break;
      }
    }
    stopping = true;
    await load;
    watching = false;
    await watcher;
    const seconds = elapsed();
    await watch.sample(cluster, seconds);
    const finalChecks = [];
    for (let i = 0; i < cluster.rulePorts.length; i++) {
      const { bytes } = pool.payload(0, 1);
      const outcome = await runTransfer(cluster.rulePorts[i]!, bytes, true, TRANSFER_DEADLINE_MS);
      const ok = outcome.kind === 'intact';
      finalChecks.push({
        rule: cluster.ruleIds[i]!,
        ok,
        outcome: outcome.kind === 'error' ? outcome.code : outcome.kind,
      });
      if (!ok)
        violations.push(
          `after the run rule ${cluster.ruleIds[i]} did not carry a transfer intact (${outcome.kind})`,
        );
    }
    violations.push(...watch.violations);
    return { plan, startedAt, seconds, kills, tally, finalChecks, counterSamples: watch.samples, violations };
  } finally {
    await cluster.stop();
  }
}
