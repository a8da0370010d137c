// deploy/'s observability kit: the Prometheus alerting rules pass `promtool check rules`, the
// Grafana dashboard is well formed, and every metric the two read is documented in
// docs/metrics.md and exported by a live edge or a live server (checked against real scrapes,
// so a renamed metric breaks this test rather than an operator's dashboard).

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, requireProgram } from '@sluice/test-kit';
import { afterEach, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { startControlPlane } from './helpers/control-plane.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { REPO_ROOT } from './helpers/edge-process.ts';
import { MetricsClient } from './helpers/metrics.ts';
import { startTarget } from './helpers/target-server.ts';

afterEach(runCleanup);

const RULES = join(REPO_ROOT, 'deploy', 'prometheus', 'sluice-alerts.yml');
const DASHBOARD = join(REPO_ROOT, 'deploy', 'grafana', 'sluice-dashboard.json');

interface Panel {
  readonly id: number;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly targets: readonly { refId: string; expr: string }[];
}

function dashboardPanels(): Panel[] {
  return (JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] }).panels;
}

/** The sluice metric families an expression reads (a histogram's _bucket/_count/_sum is its family). */
function metricsIn(text: string): string[] {
  const names = text.match(/\bsluice_[a-z_]+\b/g) ?? [];
  return names.map((name) => name.replace(/_(bucket|count|sum)$/, ''));
}

function kitMetrics(): Set<string> {
  const exprs = dashboardPanels().flatMap((panel) => panel.targets.map((t) => t.expr));
  const alertExprs = [...readFileSync(RULES, 'utf8').matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
  return new Set([...exprs, ...alertExprs].flatMap(metricsIn));
}

/** Every family a scrape declares with a # TYPE line. */
function declared(scrape: string): Set<string> {
  return new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

it('the alerting rules pass promtool check rules', async () => {
  const promtool = requireProgram('promtool', 'prometheus (scripts/system-deps.sh unpacks its promtool)');
  const { stdout } = await promisify(execFile)(promtool, ['check', 'rules', RULES]);
  expect(stdout).toContain('SUCCESS: 9 rules found');
});

it('the dashboard has unique panel ids, a query in each panel and no overlapping panels', () => {
  const panels = dashboardPanels();
  expect(panels.length).toBeGreaterThanOrEqual(12);
  expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  for (const panel of panels) {
    expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    for (const target of panel.targets) expect(metricsIn(target.expr).length, target.expr).toBeGreaterThan(0);
  }
  const cells = new Set<string>();
  for (const { gridPos: g, title } of panels) {
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        expect(cells.has(`${x},${y}`), `${title} overlaps another panel`).toBe(false);
        cells.add(`${x},${y}`);
      }
    }
  }
});

it('every metric the dashboard and the alerts read is documented and exported by a live edge or server', async () => {
  const used = kitMetrics();
  // The kit covers what issue 17 asks of it, so a metric dropped from it is noticed too.
  for (const wanted of [
    'sluice_rule_bytes_in_total',
    'sluice_rule_rejected_total',
    'sluice_rule_throttled_seconds_total',
    'sluice_target_up',
    'sluice_server_quota_used_bytes',
    'sluice_shard_restarts_total',
    'sluice_server_push_ack_seconds',
    'sluice_server_edges_connected',
    'sluice_server_auth_failures_total',
    'sluice_rule_state',
  ]) {
    expect(used).toContain(wanted);
  }
  const documented = new Set(
    [...readFileSync(join(REPO_ROOT, 'docs', 'metrics.md'), 'utf8').matchAll(/^\| (.+?) \|/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`(sluice_[a-z_]+)`/g)].map((n) => n[1]!),
    ),
  );
  const target = await startTarget((socket) => socket.pipe(socket));
  const { metrics: edgeMetrics } = await launchEdge({
    relayPath: 'native',
    config: {
      shards: 1,
      rules: [
        {
          name: 'kit',
          listenPort: await freePort(),
          targetPorts: [target.port],
          limits: { bandwidth: '10Mbit' },
        },
      ],
    },
  });
  const plane = await startControlPlane();
  const exported = new Set([
    ...declared(await edgeMetrics.text()),
    ...declared(await new MetricsClient(plane.server.ports.metrics).text()),
  ]);
  const undocumented = [...used].filter((name) => !documented.has(name));
  const unexported = [...used].filter((name) => !exported.has(name));
  expect({ undocumented, unexported }).toEqual({ undocumented: [], unexported: [] });
});
