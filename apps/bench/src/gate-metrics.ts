// Where each gated figure sits in a bench report: one reader per scenario and metric, each
// answering a value, or why there is none (the contender was skipped on this host, failed, does
// not apply, or was not part of the run).

import type { ControlPlaneReport } from './control-plane/report.ts';
import type { GateLookup, GateSpec, Observation } from './gate.ts';
import type { BenchReport } from './report.ts';
import type { MatrixResult, MatrixRow } from './scenarios/matrix.ts';
import type { Summary } from './stats.ts';

type MetricReader = (report: BenchReport, gate: GateSpec, contender: string) => Observation;

const missing = (reason: string): Observation => ({ kind: 'missing', reason });

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function fromSummary(
  summary: Summary | null | undefined,
  gate: GateSpec,
  runs: readonly { readonly error: { readonly code: string; readonly message: string } | null }[],
): Observation {
  if (summary === null || summary === undefined) {
    const error = runs.find((r) => r.error !== null)?.error;
    return missing(
      error === undefined || error === null
        ? 'no run measured'
        : `all ${runs.length} runs failed (${error.code}: ${firstLine(error.message)})`,
    );
  }
  return { kind: 'value', value: gate.statistic === 'max' ? summary.max : summary.median };
}

const throughputBitsPerSecond: MetricReader = (report, gate, contender) => {
  if (report.throughput === null) return missing('the throughput scenario did not run');
  const row = report.throughput.rows.find((r) => r.contender === contender);
  if (row === undefined) return missing('no throughput row');
  return fromSummary(row.summary, gate, row.runs);
};

/** A reader for a scenario shaped by scenarios/matrix.ts; `case` picks the point by its label. */
function matrixReader<K extends string>(
  scenario: string,
  pick: (report: BenchReport) => MatrixResult<unknown, K, unknown> | null,
  metric: K,
): MetricReader {
  return (report, gate, contender) => {
    const result = pick(report);
    if (result === null) return missing(`the ${scenario} scenario did not run`);
    const na = result.notApplicable.find((n) => n.contender === contender);
    if (na !== undefined) return missing(`does not apply: ${na.reason}`);
    const rows: MatrixRow<unknown, K, unknown>[] = result.rows.filter((r) => r.contender === contender);
    const labels = [...new Set(result.rows.map((r) => r.pointLabel))];
    let row: MatrixRow<unknown, K, unknown> | undefined;
    if (gate.case !== undefined) {
      row = rows.find((r) => r.pointLabel === gate.case);
      if (row === undefined)
        return missing(`no "${gate.case}" point (measured: ${labels.join(', ') || 'none'})`);
    } else if (labels.length === 1) {
      row = rows[0];
    } else {
      return missing(`the gate needs a "case" among: ${labels.join(', ')}`);
    }
    if (row === undefined) return missing(`no ${scenario} row`);
    return fromSummary(row.summary[metric], gate, row.runs);
  };
}

const idleKibPerConnection: MetricReader = (report, gate, contender) => {
  const m = report.idleMemory;
  if (m === null) return missing('the idle-memory scenario did not run');
  const note = m.notMeasured.find((n) => n.contender === contender);
  if (note !== undefined) return missing(`not measured: ${note.reason}`);
  let rows = m.rows;
  if (gate.case !== undefined) {
    const at = m.byCount.find((b) => String(b.count.requested) === gate.case);
    if (at === undefined) {
      return missing(
        `not measured at ${gate.case} connections (measured: ${m.byCount.map((b) => b.count.requested).join(', ')})`,
      );
    }
    if (at.count.capped !== null) return missing(`${gate.case} connections were capped: ${at.count.capped}`);
    rows = at.rows;
  }
  const row = rows.find((r) => r.contender === contender);
  if (row === undefined) return missing('no idle-memory row');
  if (row.error !== null || row.perConnectionKiB === null) {
    const error = row.error ?? row.runErrors[0];
    return missing(
      error === undefined ? 'no per-connection figure' : `${error.code}: ${firstLine(error.message)}`,
    );
  }
  const figure = gate.statistic === 'max' ? (row.summary?.max ?? row.perConnectionKiB) : row.perConnectionKiB;
  return { kind: 'value', value: figure };
};

/** A subject of edge-memory (`sluice-2-shards`, `bare-node-2-workers`): its median RSS in KiB. */
const edgeRssKiB: MetricReader = (report, gate, subject) => {
  const m = report.edgeMemory;
  if (m === null) return missing('the edge-memory scenario did not run');
  const row = m.rows.find((r) => r.subject === subject);
  if (row === undefined)
    return missing(
      `no edge-memory row for ${subject} (measured: ${m.rows.map((r) => r.subject).join(', ')})`,
    );
  if (row.rss === null) {
    const error = row.runErrors[0];
    return missing(error === undefined ? 'no reading' : `${error.code}: ${firstLine(error.message)}`);
  }
  return { kind: 'value', value: gate.statistic === 'max' ? row.rss.max : row.rss.median };
};

/** scenario → metric → reader. A gate naming anything else is rejected when gates.json is read. */
export const GATE_METRICS: Readonly<Record<string, Readonly<Record<string, MetricReader>>>> = {
  throughput: { bits_per_second: throughputBitsPerSecond },
  sweep: { bits_per_second: matrixReader('sweep', (r) => r.sweep, 'bitsPerSecond') },
  parallel: { bits_per_second: matrixReader('parallel', (r) => r.parallel, 'bitsPerSecond') },
  'small-messages': {
    requests_per_second: matrixReader('small-messages', (r) => r.smallMessages, 'perSecond'),
    p99_microseconds: matrixReader('small-messages', (r) => r.smallMessages, 'p99Us'),
  },
  'connect-rate': {
    connections_per_second: matrixReader('connect-rate', (r) => r.connectRate, 'perSecond'),
  },
  'idle-memory': { kib_per_connection: idleKibPerConnection },
  'edge-memory': { rss_kib: edgeRssKiB },
  udp: { bits_per_second: matrixReader('udp', (r) => r.udp, 'bitsPerSecond') },
};

/**
 * The control plane's gated figures (`pnpm bench:control`), each contender a level of rules the
 * real edge held: `held-1000` is the timed pushes that began with 1,000 rules on the edge.
 */
export const CONTROL_PLANE_SCENARIO = 'control-plane';

type ControlReader = (report: ControlPlaneReport, rulesHeld: number) => Observation;

const pushP99: ControlReader = (report, rulesHeld) => {
  const push = report.pushLatency;
  if (push === null) {
    const error = report.errors.find((e) => e.part === 'push latency');
    return missing(`push latency not measured${error === undefined ? '' : `: ${firstLine(error.message)}`}`);
  }
  const level = push.byLevel.find((l) => l.rulesHeld === rulesHeld);
  if (level === undefined) {
    return missing(
      `no timed pushes at ${rulesHeld} rules held (measured: ${push.byLevel.map((l) => l.rulesHeld).join(', ')})`,
    );
  }
  return { kind: 'value', value: level.latency.p99Ms };
};

const CONTROL_METRICS: Readonly<Record<string, ControlReader>> = { push_p99_ms: pushP99 };

/** The level of rules held a control-plane contender id names (`held-1000` → 1000), or null. */
function rulesHeldOf(contender: string): number | null {
  const match = /^held-(\d+)$/.exec(contender);
  return match === null ? null : Number(match[1]);
}

/** The observations of a control-plane report (one run of `pnpm bench:control`). */
export function controlPlaneLookup(report: ControlPlaneReport | null): GateLookup {
  return (gate, contender) => {
    if (report === null) return missing('bench:control did not run');
    const held = rulesHeldOf(contender);
    if (held === null) return missing(`"${contender}" is not a level of rules held (held-N)`);
    const reader = CONTROL_METRICS[gate.metric];
    if (reader === undefined) return missing(`no reader for ${gate.scenario} ${gate.metric}`);
    return reader(report, held);
  };
}

/** Gates whose scenario or metric no reader knows, as messages; empty when all are known. */
export function unknownMetrics(gates: readonly GateSpec[]): string[] {
  return gates.flatMap((g, i) => {
    if (g.scenario === CONTROL_PLANE_SCENARIO) {
      const bad = [g.numerator, g.denominator].find((c) => rulesHeldOf(c) === null);
      if (CONTROL_METRICS[g.metric] === undefined)
        return [
          `gates[${i}].metric: "${g.metric}" is not a control-plane metric (known: ${Object.keys(CONTROL_METRICS).join(', ')})`,
        ];
      if (bad !== undefined) return [`gates[${i}]: "${bad}" is not a level of rules held (held-N)`];
      return [];
    }
    const byMetric = GATE_METRICS[g.scenario];
    if (byMetric === undefined) {
      return [
        `gates[${i}].scenario: no gate metrics for "${g.scenario}" (known: ${[...Object.keys(GATE_METRICS), CONTROL_PLANE_SCENARIO].join(', ')})`,
      ];
    }
    if (byMetric[g.metric] === undefined) {
      return [
        `gates[${i}].metric: "${g.metric}" is not a ${g.scenario} metric (known: ${Object.keys(byMetric).join(', ')})`,
      ];
    }
    return [];
  });
}

/**
 * The observations of a gate suite run, which may be one report per scenario: each gate reads
 * the report that ran its scenario.
 */
export function runLookup(
  reports: readonly BenchReport[],
  control: ControlPlaneReport | null = null,
): GateLookup {
  const lookups = reports.map((r) => ({
    scenarios: r.options.scenarios as readonly string[],
    lookup: reportLookup(r),
  }));
  const controlLookup = controlPlaneLookup(control);
  return (gate, contender) => {
    if (gate.scenario === CONTROL_PLANE_SCENARIO) return controlLookup(gate, contender);
    const found = lookups.find((l) => l.scenarios.includes(gate.scenario));
    if (found === undefined) return missing(`no report in this run measured ${gate.scenario}`);
    return found.lookup(gate, contender);
  };
}

/** The observations of one report, for evaluateGates. */
export function reportLookup(report: BenchReport): GateLookup {
  return (gate, contender) => {
    for (const id of gate.contenders ?? [contender]) {
      const entry = report.contenders.find((c) => c.id === id);
      if (entry === undefined) {
        return missing(`${id} is not among this run's contenders (${report.options.contenders.join(', ')})`);
      }
      if (entry.skipped !== null) return { kind: 'skipped', reason: entry.skipped };
    }
    if (!(report.options.scenarios as readonly string[]).includes(gate.scenario)) {
      return missing(`the ${gate.scenario} scenario was not run`);
    }
    const reader = GATE_METRICS[gate.scenario]?.[gate.metric];
    if (reader === undefined) return missing(`no reader for ${gate.scenario} ${gate.metric}`);
    return reader(report, gate, contender);
  };
}
