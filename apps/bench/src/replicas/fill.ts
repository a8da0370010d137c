// Filling simulated edges with rules through the API, `concurrency` requests in flight. A push
// answered 504 ack_timeout is counted, not fatal: the server keeps such a rule pending and marks
// it Active when the (late) ack arrives, which waitAllActive then checks. On a busy 2-core host
// an ack can miss the server's 2 s budget when every process is starved of CPU at once.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerApi } from '../control-plane/server-api.ts';
import { BENCH_ERRORS } from '../errors.ts';

/** `count` pushes, push `j` given by `push(j)`; answers how many came back 504 ack_timeout. */
export async function fillRules(
  api: ServerApi | ((j: number) => ServerApi),
  count: number,
  concurrency: number,
  push: (j: number) => { readonly edge: string; readonly rule: Record<string, unknown> },
  onQuarter: (done: number) => void = () => {},
  onSample: (ms: number) => void = () => {},
): Promise<number> {
  let next = 0;
  let late = 0;
  let done = 0;
  const quarter = Math.max(1, Math.round(count / 4));
  const worker = async (): Promise<void> => {
    for (let j = next++; j < count; j = next++) {
      const { edge, rule } = push(j);
      const via = typeof api === 'function' ? api(j) : api;
      const t0 = performance.now();
      const response = await via.pushRule(edge, rule);
      onSample(performance.now() - t0);
      if (response.status === 504 && response.text.includes('ack_timeout')) late += 1;
      else if (response.status !== 201) {
        throw new Error(
          `POST /v1/rules (${String(rule.name)} to ${edge}): ${response.status} ${response.text}`,
        );
      }
      done += 1;
      if (done % quarter === 0) onQuarter(done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return late;
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
