// GET /v1/traffic latency on a filled history: one in-process sluice-server (real SQLite in a
// throwaway data dir, its API over HTTP on loopback), whose traffic table is filled directly
// with 1000 rules spread over --edges edges: --days-1m days of 1-minute buckets (default 1) and
// --days-1h days of 1-hour buckets (default 30), every rule in every bucket. Then ~50 requests
// each (after 5 thrown away) of edge= with bucket=1m over the last day and bucket=1h over the
// last 30 days, and the same two over everything an admin sees. Prints p50 / p99 over HTTP, and
// the longest event-loop stall meanwhile (the store answers a query a slice at a time).
// `node scripts/bench-traffic-query.ts [--rules 1000] [--edges 10] [--days-1m 1] [--days-1h 30] [--requests 50]`

import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { TRAFFIC_BUCKETS } from '@sluice/api';
import { startTestServer } from '@sluice/server/test-harness';

const { values } = parseArgs({
  options: {
    rules: { type: 'string', default: '1000' },
    edges: { type: 'string', default: '10' },
    'days-1m': { type: 'string', default: '1' },
    'days-1h': { type: 'string', default: '30' },
    requests: { type: 'string', default: '50' },
  },
});
const RULES = Number(values.rules);
const EDGES = Number(values.edges);
const DAYS_1M = Number(values['days-1m']);
const DAYS_1H = Number(values['days-1h']);
const REQUESTS = Number(values.requests);
const DAY = 86_400_000;
const MINUTE = TRAFFIC_BUCKETS['1m'];
const HOUR = TRAFFIC_BUCKETS['1h'];

function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const now = Math.floor(Date.now() / HOUR) * HOUR;
const test = await startTestServer({ now: () => now });
try {
  const { store } = test.server;
  const edgeIds: string[] = [];
  for (let e = 0; e < EDGES; e++) {
    edgeIds.push((await store.edges.createEnrollment(`edge-${e}`, MINUTE, null)).edge.id);
  }

  // A second connection to the same file (WAL): the rows go in as an edge's reports would leave
  // them, without folding 2 million reports first.
  const filling = performance.now();
  const db = new DatabaseSync(join(test.dir, 'data', 'sluice.db'));
  const insert = db.prepare(
    'INSERT INTO traffic (width, at, rule_id, edge_id, owner, bytes_in, bytes_out) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  let rows = 0;
  const fill = (widthMs: number, days: number) => {
    const buckets = (days * DAY) / widthMs;
    db.exec('BEGIN');
    for (let b = 1; b <= buckets; b++) {
      const at = now - b * widthMs;
      for (let r = 0; r < RULES; r++) {
        insert.run(widthMs, at, `r_bench_${r}`, edgeIds[r % EDGES]!, `user-${r % 100}`, 1000 + r, 2000 + b);
        rows++;
      }
      if (b % 60 === 0) {
        db.exec('COMMIT');
        db.exec('BEGIN');
      }
    }
    db.exec('COMMIT');
  };
  fill(MINUTE, DAYS_1M);
  fill(HOUR, DAYS_1H);
  db.exec('ANALYZE');
  db.close();
  const fillSecs = (performance.now() - filling) / 1000;
  console.log(
    `filled ${rows} rows (${RULES} rules on ${EDGES} edges; ${DAYS_1M} d of 1m, ${DAYS_1H} d of 1h) in ${fillSecs.toFixed(1)} s`,
  );

  const iso = (ms: number) => new Date(ms).toISOString();
  const measure = async (name: string, query: string): Promise<void> => {
    const url = `${test.apiUrl}/v1/traffic?${query}`;
    const samples: number[] = [];
    let answer: { samples: unknown[] } | null = null;
    // The server runs in this process: the event loop's longest stall is the server's.
    const stalls = monitorEventLoopDelay({ resolution: 5 });
    for (let n = 0; n < REQUESTS + 5; n++) {
      const started = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${test.adminToken}` } });
      const body = await response.json();
      const ms = performance.now() - started;
      if (response.status !== 200) throw new Error(`${name}: ${response.status} ${JSON.stringify(body)}`);
      answer = body as { samples: unknown[] };
      if (n === 4) stalls.enable();
      if (n >= 5) samples.push(ms);
    }
    stalls.disable();
    console.log(
      `${name}: ${answer?.samples.length} samples; p50 ${quantile(samples, 0.5).toFixed(2)} ms, p99 ${quantile(samples, 0.99).toFixed(2)} ms (${REQUESTS} requests); longest event-loop stall ${(stalls.max / 1e6).toFixed(1)} ms`,
    );
  };
  const perEdge = RULES / EDGES;
  await measure(
    `edge= (${perEdge} rules), 1m over 1 day`,
    `edge=edge-0&bucket=1m&from=${iso(now - DAY)}&to=${iso(now)}`,
  );
  await measure(
    `edge= (${perEdge} rules), 1h over 30 days`,
    `edge=edge-0&bucket=1h&from=${iso(now - 30 * DAY)}&to=${iso(now)}`,
  );
  await measure(
    `all (${RULES} rules, admin), 1m over 1 day`,
    `bucket=1m&from=${iso(now - DAY)}&to=${iso(now)}`,
  );
  await measure(
    `all (${RULES} rules, admin), 1h over 30 days`,
    `bucket=1h&from=${iso(now - 30 * DAY)}&to=${iso(now)}`,
  );
} finally {
  await test.stop();
}
