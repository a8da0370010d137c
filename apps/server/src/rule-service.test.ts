// A server started on a database whose rules predate the listen keys (schema 9) still finds
// their clashes: the rule service fills the keys in before its first check on that edge.

import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ACK_ALL_ACTIVE, removeDir } from '@sluice/test-kit';
import { expect, it } from 'vitest';
import { enrollAndConnect, startTestServer, tempDir } from './test-harness.ts';

it('finds a clash with a rule stored without listen keys, on the first push after the start', async () => {
  const dir = tempDir('sluice-listen-keys-');
  const first = await startTestServer({ dir });
  const { edge } = await enrollAndConnect(first, 'edge-01', ACK_ALL_ACTIVE);
  const rule = { name: 'old', listen: '0.0.0.0:7000', targets: ['127.0.0.1:9'] };
  expect((await first.request('POST', '/v1/rules', { edge: 'edge-01', rule })).status).toBe(201);
  const token = (await first.request('POST', '/v1/users/me/tokens', { name: 'next start' })).body.token;
  await edge.close();
  await first.stop();

  // As a database from before the listen keys has the rule.
  const db = new DatabaseSync(join(dir, 'data', 'sluice.db'));
  db.exec('UPDATE rules SET protocol = NULL, port_lo = NULL, port_span = NULL');
  db.close();

  const second = await startTestServer({ dir });
  try {
    // The conflict check comes before the check for the edge's session, so the offline edge
    // answers port_in_use, not client_not_connected.
    const clash = await second.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: { name: 'new', listen: '0.0.0.0:7000', targets: ['127.0.0.1:9'] } },
      token,
    );
    expect(clash.body.error.code).toBe('port_in_use');
    expect(clash.body.error.message).toContain('rule "old"');
  } finally {
    await second.stop();
    removeDir(dir);
  }
});
