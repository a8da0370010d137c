// Markdown tables for the scenarios that share the matrix shape, and for idle memory at several
// counts: pure functions of the report, so report-markdown.ts only lays them out. Medians,
// with min–max when there were repeats; ratios to direct and REDIRECT from the same run.

import type { Summary } from '../stats.ts';
import type { ConnectRateReport } from './connect-rate.ts';
import type { HttpReport } from './http.ts';
import type { IdleMemoryReport } from './idle-memory.ts';
import type { MatrixRow, NotApplicable } from './matrix.ts';
import type { ParallelReport } from './parallel.ts';
import { QOS_SLOW_END_SECONDS, type QosCapReport } from './qos-cap.ts';
import type { SmallMessagesReport } from './small-messages.ts';
import type { SweepReport } from './sweep.ts';
import type { UdpReport } from './udp.ts';

const DASH = '–';

export interface ScenarioTables {
  /** Markdown lines: a heading, a table, a blank line, per scenario. */
  readonly lines: readonly string[];
  /** One line each: failed runs, contenders not applicable, capped counts. */
  readonly notes: readonly string[];
}

export interface TableInput {
  readonly sweep: SweepReport | null;
  readonly parallel: ParallelReport | null;
  readonly udp: UdpReport | null;
  readonly smallMessages: SmallMessagesReport | null;
  readonly http: HttpReport | null;
  readonly connectRate: ConnectRateReport | null;
  readonly idleMemory: IdleMemoryReport | null;
  /** Optional: reports written before the qos-cap scenario lack it. */
  readonly qosCap?: QosCapReport | null;
}

export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

/** `9.81` or, with repeats, `9.81 (9.60–9.95)`; scaled by `scale` first. */
export function cell(summary: Summary | null | undefined, digits: number, scale = 1): string {
  if (summary === null || summary === undefined) return DASH;
  const v = (x: number): string => (x / scale).toFixed(digits);
  return summary.n > 1
    ? `${v(summary.median)} (${v(summary.min)}${DASH}${v(summary.max)})`
    : v(summary.median);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '--:'));
  return [line(header), line(align), ...rows.map(line)];
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** Notes for failed runs and for contenders the scenario does not apply to. */
function matrixNotes(
  scenario: string,
  rows: readonly MatrixRow<unknown, string>[],
  notApplicable: readonly NotApplicable[],
  notes: string[],
): void {
  for (const row of rows) {
    for (const run of row.runs) {
      if (run.error === null) continue;
      notes.push(
        `${scenario}, ${row.contender}, ${row.pointLabel}, run ${run.repeat}: ${run.error.code}: ${firstLine(run.error.message)}`,
      );
    }
  }
  // One note per reason: `c-splice, naive-pipe (a TCP stream relay)`.
  const byReason = new Map<string, string[]>();
  for (const n of notApplicable) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.contender]);
  if (byReason.size > 0) {
    const groups = [...byReason].map(([reason, ids]) => `${ids.join(', ')} (${reason})`);
    notes.push(`${scenario}: not applicable to ${groups.join('; ')}`);
  }
}

function failedCell(row: MatrixRow<unknown, string>): string {
  return `failed (${row.runs.find((r) => r.error !== null)?.error?.code ?? 'no runs'})`;
}

function contendersOf(rows: readonly MatrixRow<unknown, string>[]): { id: string; label: string }[] {
  const seen = new Map<string, string>();
  for (const r of rows) if (!seen.has(r.contender)) seen.set(r.contender, r.label);
  return [...seen].map(([id, label]) => ({ id, label }));
}

function sweepSection(s: SweepReport, notes: string[]): string[] {
  const header = [
    'contender',
    ...s.points.map((p) => s.rows.find((r) => r.point === p)?.pointLabel ?? String(p)),
  ];
  const last = s.points.at(-1);
  header.push(`× direct (${header.at(-1)})`, `× REDIRECT (${header.at(-1)})`);
  const rows = contendersOf(s.rows).map((c) => {
    const cells = s.points.map((p) => {
      const row = s.rows.find((r) => r.contender === c.id && r.point === p);
      if (row === undefined) return DASH;
      return row.summary.bitsPerSecond === null ? failedCell(row) : cell(row.summary.bitsPerSecond, 2, 1e9);
    });
    const end = s.rows.find((r) => r.contender === c.id && r.point === last);
    return [
      c.label,
      ...cells,
      fixed(end?.vsDirect.bitsPerSecond, 2),
      fixed(end?.vsRedirect.bitsPerSecond, 2),
    ];
  });
  // The unlimited point's failures are noted under the single-flow table.
  matrixNotes(
    'sweep',
    s.rows.filter((r) => r.point !== 0),
    s.notApplicable,
    notes,
  );
  return [
    `### Offered-load sweep: one TCP flow, iperf3 --bitrate, received Gbit/s, ${s.seconds} s, median of ${s.repeats}`,
    '',
    ...table(header, rows),
  ];
}

function parallelSection(p: ParallelReport, notes: string[]): string[] {
  const rows = p.rows.map((r) =>
    r.summary.bitsPerSecond === null
      ? [r.label, failedCell(r), DASH, DASH, DASH]
      : [
          r.label,
          cell(r.summary.bitsPerSecond, 2, 1e9),
          cell(r.summary.retransmits, 0),
          fixed(r.vsDirect.bitsPerSecond, 2),
          fixed(r.vsRedirect.bitsPerSecond, 2),
        ],
  );
  matrixNotes('parallel', p.rows, p.notApplicable, notes);
  return [
    `### Parallel flows: iperf3 -P ${p.streams}, unlimited, ${p.seconds} s, median of ${p.repeats}`,
    '',
    ...table(['contender', 'Gbit/s', 'retransmits', '× direct', '× REDIRECT'], rows),
  ];
}

function udpSection(u: UdpReport, notes: string[]): string[] {
  const rows = u.rows.map((r) =>
    r.summary.bitsPerSecond === null
      ? [r.label, r.pointLabel, failedCell(r), DASH, DASH, DASH, DASH]
      : [
          r.label,
          r.pointLabel,
          cell(r.summary.bitsPerSecond, 0, 1e6),
          cell(r.summary.lostPercent, 2),
          cell(r.summary.jitterMs, 3),
          fixed(r.vsDirect.bitsPerSecond, 2),
          fixed(r.vsRedirect.bitsPerSecond, 2),
        ],
  );
  matrixNotes('udp', u.rows, u.notApplicable, notes);
  return [
    `### UDP: iperf3 -u, ${u.length}-byte datagrams, ${u.seconds} s, median of ${u.repeats}`,
    '',
    ...table(
      ['contender', 'offered', 'received Mbit/s', 'lost %', 'jitter ms', '× direct', '× REDIRECT'],
      rows,
    ),
  ];
}

function latencyRows(rows: SmallMessagesReport['rows'] | ConnectRateReport['rows'], withPoint: boolean) {
  return rows.map((r) => {
    const lead = withPoint ? [r.label, r.pointLabel] : [r.label];
    if (r.summary.perSecond === null) return [...lead, failedCell(r), DASH, DASH, DASH, DASH, DASH];
    return [
      ...lead,
      cell(r.summary.perSecond, 0),
      cell(r.summary.p50Us, 0),
      cell(r.summary.p99Us, 0),
      cell(r.summary.p999Us, 0),
      fixed(r.vsDirect.perSecond, 2),
      fixed(r.vsRedirect.perSecond, 2),
    ];
  });
}

function smallMessagesSection(m: SmallMessagesReport, notes: string[]): string[] {
  matrixNotes('small-messages', m.rows, m.notApplicable, notes);
  return [
    `### Small messages: echo request/response, ${m.seconds} s after ${m.warmupSeconds} s warm-up, median of ${m.repeats}, load from ${m.workers} piscina workers`,
    '',
    ...table(
      [
        'contender',
        'size × connections',
        'round trips/s',
        'p50 µs',
        'p99 µs',
        'p99.9 µs',
        '× direct',
        '× REDIRECT',
      ],
      latencyRows(m.rows, true),
    ),
  ];
}

function connectRateSection(c: ConnectRateReport, notes: string[]): string[] {
  matrixNotes('connect-rate', c.rows, c.notApplicable, notes);
  const loops = c.points.join(', ');
  return [
    `### Connection setup: connect, ${c.payloadBytes} B round trip, close; ${loops} loops over ${c.workers} piscina workers, ${c.seconds} s, median of ${c.repeats}`,
    '',
    ...table(
      ['contender', 'connections/s', 'p50 µs', 'p99 µs', 'p99.9 µs', '× direct', '× REDIRECT'],
      latencyRows(c.rows, false),
    ),
  ];
}

function httpSection(h: HttpReport, notes: string[]): string[] {
  const rows = h.rows.map((r) =>
    r.summary.requestsPerSecond === null
      ? [r.label, r.pointLabel, failedCell(r), DASH, DASH, DASH, DASH, DASH]
      : [
          r.label,
          String(r.point),
          cell(r.summary.requestsPerSecond, 0),
          cell(r.summary.p50Ms, 0),
          cell(r.summary.p99Ms, 0),
          cell(r.summary.p999Ms, 0),
          fixed(r.vsDirect.requestsPerSecond, 2),
          fixed(r.vsRedirect.requestsPerSecond, 2),
        ],
  );
  matrixNotes('http', h.rows, h.notApplicable, notes);
  return [
    `### HTTP: autocannon against node:http, keep-alive, ${h.seconds} s, median of ${h.repeats}`,
    '',
    ...table(
      ['contender', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', '× direct', '× REDIRECT'],
      rows,
    ),
  ];
}

function idleSection(m: IdleMemoryReport, notes: string[]): string[] {
  const counts = m.byCount.map((b) => b.count);
  const header = [
    'contender',
    ...counts.map((c) => (c.capped === null ? `${c.connections}` : `${c.connections} (of ${c.requested})`)),
    `× HAProxy (${m.connections})`,
  ];
  const ids = m.byCount[0]?.rows.map((r) => ({ id: r.contender, label: r.label })) ?? [];
  const rows = ids.map((c) => {
    const cells = m.byCount.map((b) => {
      const row = b.rows.find((r) => r.contender === c.id);
      if (row === undefined) return DASH;
      return row.summary === null ? `failed (${row.error?.code ?? '?'})` : cell(row.summary, 2);
    });
    return [c.label, ...cells, fixed(m.rows.find((r) => r.contender === c.id)?.vsHaproxy, 2)];
  });
  for (const count of counts) if (count.capped !== null) notes.push(`idle-memory: capped: ${count.capped}`);
  for (const b of m.byCount) {
    for (const row of b.rows) {
      for (const e of row.runErrors) {
        if (b === m.byCount[0])
          notes.push(`idle-memory, ${row.contender}: ${e.code}: ${firstLine(e.message)}`);
      }
    }
  }
  for (const n of m.notMeasured) notes.push(`idle-memory, ${n.contender}: not measured (${n.reason})`);
  return [
    `### Idle connections: KiB per connection (PSS of the relay and its children), opened end to end, median of ${m.repeats}`,
    '',
    ...table(header, rows),
  ];
}

function qosCapSection(q: QosCapReport, notes: string[]): string[] {
  const rows = q.rows.map((r) => {
    const lead = [
      r.label,
      `${(r.point.capBitsPerSecond / 1e6).toFixed(0)}`,
      String(r.point.streams),
      r.point.scope,
    ];
    if (r.summary.ofCap === null) return [...lead, failedCell(r), DASH, DASH, DASH];
    return [
      ...lead,
      cell(r.summary.bitsPerSecond, 2, 1e6),
      cell(r.summary.ofCap, 4),
      cell(r.summary.cpuPercent, 1),
      cell(r.summary.cpuSecondsPerGbit, 3),
    ];
  });
  matrixNotes('qos-cap', q.rows, q.notApplicable, notes);
  const pct = `${(q.target * 100).toFixed(0)} %`;
  for (const r of q.rows) {
    const median = r.summary.ofCap?.median;
    if (median !== undefined && Math.abs(median - 1) > q.target) {
      notes.push(
        `qos-cap, ${r.contender}, ${r.pointLabel}: measured / cap ${median.toFixed(4)}, outside the ±${pct} target`,
      );
    }
  }
  const planned = q.omitSeconds + q.seconds;
  for (const r of q.rows) {
    // Older reports (and hand-made ones) may lack the client's time.
    const slowest = Math.max(...r.runs.map((run) => run.detail?.clientSeconds ?? 0));
    if (slowest > planned + QOS_SLOW_END_SECONDS) {
      notes.push(
        `qos-cap, ${r.contender}, ${r.pointLabel}: iperf3 took up to ${slowest.toFixed(0)} s for a ${planned} s test: its control connection crosses the same cap and its end message waited behind the bytes the flows still had queued (the figure stands: the receiver measures until that message arrives)`,
      );
    }
  }
  if (q.rows.length > 0) {
    notes.push(
      'qos-cap: measured / cap instead of × direct and × REDIRECT: a capped flow is meant to run at its cap, not at line rate, and neither baseline has a cap, so the ratio to the cap is the figure',
    );
  }
  const flows = q.streams === 1 ? '1 flow' : `${q.streams} flows (iperf3 -P ${q.streams})`;
  return [
    `### Bandwidth caps: measured rate / cap, iperf3 unlimited through a capped rule, ${q.seconds} s after ${q.omitSeconds} s omitted, median of ${q.repeats}`,
    '',
    `Each cap on 1 flow with the cap on the rule (\`limits = { bandwidth = CAP }\`), and on ${flows} sharing the cap of the rule's owner (\`[owners.bench] limits\`, none on the rule), summed. A cap's bucket starts full (the default burst, ${q.burstSeconds} s of rate) and the unlimited sender empties it at once, so iperf3 --omit leaves the first ${q.omitSeconds} s out of the figure, which the burst would otherwise inflate. Target: measured / cap within ±${pct}. CPU: the edge process's user + system time (all threads, so every shard) over the measured interval; CPU s per Gbit is that over the gigabits carried.`,
    '',
    ...table(
      [
        'contender',
        'cap Mbit/s',
        'flows',
        'cap on',
        'received Mbit/s',
        'measured / cap',
        'edge CPU % of a core',
        'CPU s per Gbit',
      ],
      rows,
    ),
  ];
}

/** Every section present in `input`, in suite order, and their notes. */
export function scenarioTables(input: TableInput): ScenarioTables {
  const lines: string[] = [];
  const notes: string[] = [];
  const add = (section: string[]): void => void lines.push(...section, '');
  if (input.sweep !== null && input.sweep.points.length > 1) add(sweepSection(input.sweep, notes));
  if (input.parallel !== null) add(parallelSection(input.parallel, notes));
  if (input.udp !== null) add(udpSection(input.udp, notes));
  if (input.smallMessages !== null) add(smallMessagesSection(input.smallMessages, notes));
  if (input.http !== null) add(httpSection(input.http, notes));
  if (input.connectRate !== null) add(connectRateSection(input.connectRate, notes));
  if (input.idleMemory !== null) add(idleSection(input.idleMemory, notes));
  if (input.qosCap !== undefined && input.qosCap !== null) add(qosCapSection(input.qosCap, notes));
  return { lines, notes };
}
