// The part of `iperf3 -J` the bench reads, validated at the boundary: a TCP run's received and
// sent totals and CPU use, or the error iperf3 reported (it can exit 0 with an "error" key).
// Pure: no processes here, so the parser is tested on recorded output.

import { z } from 'zod';
import { BenchError } from './errors.ts';

const sumSchema = z.object({
  seconds: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  bits_per_second: z.number().nonnegative(),
  retransmits: z.number().int().nonnegative().optional(),
});

const reportSchema = z.object({
  start: z
    .object({
      version: z.string().optional(),
      system_info: z.string().optional(),
      test_start: z
        .object({
          protocol: z.string(),
          num_streams: z.number().int(),
          duration: z.number(),
          reverse: z.number().int(),
        })
        .optional(),
    })
    .optional(),
  end: z
    .object({
      sum_sent: sumSchema.optional(),
      sum_received: sumSchema.optional(),
      cpu_utilization_percent: z.object({ host_total: z.number(), remote_total: z.number() }).optional(),
    })
    .optional(),
  error: z.string().optional(),
});

export interface Iperf3TcpResult {
  /** `iperf 3.12` as iperf3 names itself, or null if absent. */
  readonly version: string | null;
  readonly streams: number;
  readonly reverse: boolean;
  /** What the receiving side counted: the figure the bench reports. */
  readonly receivedBitsPerSecond: number;
  readonly receivedBytes: number;
  readonly seconds: number;
  readonly sentBitsPerSecond: number;
  readonly retransmits: number | null;
  /** CPU use of the iperf3 client (host) and server (remote), percent of one core. */
  readonly cpuClientPercent: number | null;
  readonly cpuServerPercent: number | null;
}

/** Parses one `iperf3 -c ... -J` report of a TCP run; throws BenchError on errors or odd output. */
export function parseIperf3TcpResult(json: string): Iperf3TcpResult {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    const excerpt = json.trim().slice(0, 120) || '(empty)';
    throw new BenchError('iperf3_bad_output', { reason: `not JSON (${(err as Error).message}): ${excerpt}` });
  }
  const parsed = reportSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(document)' : '(document)';
    throw new BenchError('iperf3_bad_output', { reason: `${where}: ${issue?.message ?? 'invalid'}` });
  }
  const report = parsed.data;
  if (report.error !== undefined)
    throw new BenchError('iperf3_failed', { role: 'client', reason: report.error });
  const received = report.end?.sum_received;
  const sent = report.end?.sum_sent;
  if (received === undefined || sent === undefined) {
    throw new BenchError('iperf3_bad_output', {
      reason: 'end.sum_received or end.sum_sent is missing (not a TCP run?)',
    });
  }
  const testStart = report.start?.test_start;
  if (testStart !== undefined && testStart.protocol !== 'TCP') {
    throw new BenchError('iperf3_bad_output', { reason: `expected a TCP run, got ${testStart.protocol}` });
  }
  return {
    version: report.start?.version ?? null,
    streams: testStart?.num_streams ?? 1,
    reverse: (testStart?.reverse ?? 0) !== 0,
    receivedBitsPerSecond: received.bits_per_second,
    receivedBytes: received.bytes,
    seconds: received.seconds,
    sentBitsPerSecond: sent.bits_per_second,
    retransmits: sent.retransmits ?? null,
    cpuClientPercent: report.end?.cpu_utilization_percent?.host_total ?? null,
    cpuServerPercent: report.end?.cpu_utilization_percent?.remote_total ?? null,
  };
}
