// `sluicectl traffic` through runCli against a real sluice-server (the server's test harness:
// real SQLite, its API over HTTP on loopback, a fake edge over real TLS), with stats recorded
// through the store as the control session records an edge's reports.

import { API_ERRORS } from '@sluice/api';
import type { RuleStats } from '@sluice/protocol';
import { enrollAndConnect, startTestServer, type TestServer } from '@sluice/server/test-harness';
import { ACK_ALL_ACTIVE, ZERO_COUNTERS } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spark } from './commands/traffic.ts';
import { runCtl } from './run-ctl.fixture.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-12-01T10:00:00Z');

let now = T0;
let test: TestServer;
let close: () => Promise<void>;
let ruleId: string;

function ctl(args: readonly string[], tty = false) {
  return runCtl(test.apiUrl, test.adminToken, args, { now: () => now, tty });
}

function report(bytesIn: number, bytesOut: number): RuleStats {
  return { ...ZERO_COUNTERS, ruleId, bytesIn, bytesOut };
}

beforeAll(async () => {
  test = await startTestServer({ now: () => now });
  const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
  close = () => edge.close();
  const rule = { name: 'web', listen: '127.0.0.1:27001', targets: ['127.0.0.1:9'] };
  const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule });
  ruleId = pushed.body.id;
  // 2 KiB in and 1 MiB out in the first minute, 6 KiB in and nothing out in the third.
  await test.server.store.stats.record(edgeId, 'boot', [report(2048, 1_048_576)]);
  now = T0 + 2 * MINUTE;
  await test.server.store.stats.record(edgeId, 'boot', [report(8192, 1_048_576)]);
  now = T0 + 10 * MINUTE;
});
afterAll(async () => {
  await close();
  await test.stop();
});

describe('sluicectl traffic', () => {
  it('prints the API answer with --format json', async () => {
    const result = await ctl(['traffic', '--rule', ruleId, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      bucket: '1m',
      from: new Date(T0 + 10 * MINUTE - 24 * 3_600_000).toISOString(),
      to: new Date(T0 + 10 * MINUTE).toISOString(),
      samples: [
        { at: '2026-12-01T10:00:00.000Z', bytesIn: 2048, bytesOut: 1_048_576 },
        { at: '2026-12-01T10:02:00.000Z', bytesIn: 6144, bytesOut: 0 },
      ],
      totals: { bytesIn: 8192, bytesOut: 1_048_576 },
    });
  });

  it('prints a table with byte units and a total; a duration --from is before now', async () => {
    const result = await ctl(['traffic', '--edge', 'edge-01', '--from', '1h']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        '1m buckets from 2026-12-01 09:10:00Z to 2026-12-01 10:10:00Z:',
        'BUCKET                IN        OUT',
        '2026-12-01 10:00:00Z  2.00 KiB  1.00 MiB',
        '2026-12-01 10:02:00Z  6.00 KiB  0 B',
        'total                 8.00 KiB  1.00 MiB',
        '',
      ].join('\n'),
    );
  });

  it('adds a sparkline column scaled to the busiest bucket when stdout is a terminal', async () => {
    const result = await ctl(['traffic', '--bucket', '1h'], true);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^2026-12-01 10:00:00Z\s+8\.00 KiB\s+1\.00 MiB\s+█$/m);
    const minutes = await ctl(['traffic'], true);
    expect(minutes.stdout).toMatch(/^2026-12-01 10:00:00Z .*█$/m);
    expect(minutes.stdout).toMatch(/^2026-12-01 10:02:00Z .*▁$/m);
    expect([0, 1, 500, 999, 1000].map((value) => spark(value, 1000)).join('')).toBe(' ▁▄██');
  });

  it('says so when there is no traffic', async () => {
    const result = await ctl(['traffic', '--to', '2h', '--from', '3h']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'no traffic in 1m buckets from 2026-12-01 07:10:00Z to 2026-12-01 08:10:00Z\n',
    );
  });

  it("exits with bad_request's code, naming the parameter, for a bad query", async () => {
    const result = await ctl(['traffic', '--bucket', '5m']);
    expect(result.code).toBe(API_ERRORS.table.bad_request.exitCode);
    expect(result.stderr).toMatch(/^bad_request: bucket: must be one of 1m, 1h/);
    const both = await ctl(['traffic', '--rule', ruleId, '--user', 'admin']);
    expect(both.code).toBe(API_ERRORS.table.bad_request.exitCode);
    expect(both.stderr).toMatch(/^bad_request: user: give at most one of rule, edge and user/);
  });
});
