// The API while its PostgreSQL store is down: 503 store_unavailable (with a message that does not
// name the database), not 500 internal and not a crash; once the database is back the same
// server answers again without a restart.

import { type PgCluster, startPgCluster } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../test-harness.ts';

let cluster: PgCluster;

beforeAll(async () => {
  cluster = await startPgCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('the API on a store that goes away', () => {
  it('answers 503 store_unavailable while the database is down, and serves again once it is back', async () => {
    const test = await startTestServer({ config: { store: cluster.url } });
    try {
      expect((await test.request('GET', '/v1/edges')).status).toBe(200);
      await cluster.halt();
      let down: Awaited<ReturnType<typeof test.request>>;
      try {
        down = await test.request('GET', '/v1/edges');
      } finally {
        await cluster.resume();
      }
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        error: {
          code: 'store_unavailable',
          message: 'the server cannot reach its database now; retry shortly',
        },
      });
      expect(await test.request('GET', '/v1/edges')).toMatchObject({ status: 200, body: { edges: [] } });
    } finally {
      await test.stop();
    }
  });
});
