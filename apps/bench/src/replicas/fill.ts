// Filling simulated edges with rules through the API, `concurrency` requests in flight. The fill
// is the set-up of a measurement, not one, so two answers are counted rather than fatal: 504
// ack_timeout (the server keeps such a rule pending and marks it Active when the late ack
// arrives, which waitAllActive then checks) and 503 store_unavailable (retried). Both were seen
// on this busy 2-core host with the PostgreSQL store under load; the report gives their counts.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerApi } from '../control-plane/server-api.ts';
import { BENCH_ERRORS } from '../errors.ts';

export interface FillOutcome {
  /** Pushes answered 504 ack_timeout: stored, Active once the late ack came. */
  readonly lateAcks: number;
  /** Answers 503 store_unavailable (the pool had no connection for 5 s), each retried. */
  readonly storeUnavailable: number;
}

const RETRY_MS = 500;
const MAX_TRIES = 20;

/**
 * `count` pushes, push `j` given by `push(j)`. A 503 store_unavailable is retried after 0.5 s
 * (a retry answered 409 name_taken means the first try was stored after all).
 */
export async function fillRules(
  api: ServerApi | ((j: number) => ServerApi),
  count: number,
  concurrency: number,
  push: (j: number) => { readonly edge: string; readonly rule: Record<string, unknown> },
  onQuarter: (done: number) => void = () => {},
  onSample: (ms: number) => void = () => {},
): Promise<FillOutcome> {
  let next = 0;
  let lateAcks = 0;
  let storeUnavailable = 0;
  let done = 0;
  const quarter = Math.max(1, Math.round(count / 4));
  const one = async (j: number): Promise<void> => {
    const { edge, rule } = push(j);
    const via = typeof api === 'function' ? api(j) : api;
    for (let tries = 1; ; tries++) {
      const t0 = performance.now();
      const response = await via.pushRule(edge, rule);
      if (tries === 1) onSample(performance.now() - t0);
      if (response.status === 201) return;
      if (response.status === 504 && response.text.includes('ack_timeout')) {
        lateAcks += 1;
        return;
      }
      if (tries > 1 && response.status === 409 && response.text.includes('name_taken')) return;
      if (response.status === 503 && response.text.includes('store_unavailable') && tries < MAX_TRIES) {
        storeUnavailable += 1;
        await sleep(RETRY_MS);
        continue;
      }
      throw new Error(
        `POST /v1/rules (${String(rule.name)} to ${edge}): ${response.status} ${response.text}`,
      );
    }
  };
  const worker = async (): Promise<void> => {
    for (let j = next++; j < count; j = next++) {
      await one(j);
      done += 1;
      if (done % quarter === 0) onQuarter(done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { lateAcks, storeUnavailable };
}

/** Waits until the API shows `expected` rules Active over `edges` (null: every edge). */
export async function waitAllActive(
  api: ServerApi,
  edges: readonly string[] | null,
  expected: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const lists =
      edges === null ? [await api.rules()] : await Promise.all(edges.map((edge) => api.rules(edge)));
    const active = lists.flat().filter((rule) => rule.state === 'active').length;
    if (active >= expected) return;
    if (performance.now() > deadline) {
      throw BENCH_ERRORS.error('timeout', {
        ms: timeoutMs,
        what: `${expected} rules Active (${active} so far)`,
      });
    }
    await sleep(250);
  }
}
