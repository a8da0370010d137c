// The part of `iperf3 -c ... -J` a caller reads, validated at the boundary: for TCP the sent and
// received totals and retransmits, for UDP the received rate, jitter and loss (the receiver's
// figures, which the client's report carries), or the error iperf3 reported (it exits 0 with an
// "error" key when the connection is refused). Pure: no processes here, so the parser is tested
// on recorded output.

import { z } from 'zod';
import { IPERF3_ERRORS } from './errors.ts';

const sumSchema = z.object({
  seconds: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  bits_per_second: z.number().nonnegative(),
  retransmits: z.number().int().nonnegative().optional(),
  jitter_ms: z.number().nonnegative().optional(),
  lost_packets: z.number().int().nonnegative().optional(),
  packets: z.number().int().nonnegative().optional(),
  lost_percent: z.number().nonnegative().optional(),
});

const reportSchema = z.object({
  start: z
    .object({
      version: z.string().optional(),
      rcvbuf_actual: z.number().int().nonnegative().optional(),
      test_start: z
        .object({
          protocol: z.string(),
          num_streams: z.number().int(),
          blksize: z.number().int().optional(),
          omit: z.number().optional(),
          duration: z.number(),
          reverse: z.number().int(),
          target_bitrate: z.number().optional(),
        })
        .optional(),
    })
    .optional(),
  end: z
    .object({
      sum: sumSchema.optional(),
      sum_sent: sumSchema.optional(),
      sum_received: sumSchema.optional(),
      cpu_utilization_percent: z.object({ host_total: z.number(), remote_total: z.number() }).optional(),
    })
    .optional(),
  error: z.string().optional(),
});

type Report = z.infer<typeof reportSchema>;

/** What TCP and UDP runs have in common. */
interface Iperf3RunInfo {
  /** `iperf 3.12` as iperf3 names itself, or null if absent. */
  readonly version: string | null;
  readonly streams: number;
  /** -R: the server sent and the client received. */
  readonly reverse: boolean;
  /** -b as iperf3 understood it, bits per second per stream; 0 is unlimited. */
  readonly targetBitsPerSecond: number;
  /** -l as iperf3 used it (TCP: write size; UDP: datagram payload). */
  readonly blockSize: number | null;
  readonly omitSeconds: number;
  /** The measured span on the receiving side, seconds. */
  readonly seconds: number;
  /** What the sending side put on the wire, bits per second. */
  readonly sentBitsPerSecond: number;
  /** What the receiving side counted: the figure to report. */
  readonly receivedBitsPerSecond: number;
  readonly sentBytes: number;
  readonly receivedBytes: number;
  /**
   * SO_RCVBUF of the client's data socket as the kernel set it (twice the -w asked, within
   * net.core.rmem_max; the server sets its own from the same -w), or null if absent.
   */
  readonly receiveBufferBytes: number | null;
  /** CPU use of the iperf3 client (host) and server (remote), percent of one core. */
  readonly cpuClientPercent: number | null;
  readonly cpuServerPercent: number | null;
}

export interface Iperf3TcpResult extends Iperf3RunInfo {
  readonly protocol: 'tcp';
  /** Retransmits the sender saw (null when the kernel does not say). */
  readonly retransmits: number | null;
}

export interface Iperf3UdpResult extends Iperf3RunInfo {
  readonly protocol: 'udp';
  /** Datagrams the sender sent. */
  readonly sentPackets: number;
  /** Datagrams the receiver expected (its highest sequence number seen), and of those lost. */
  readonly totalPackets: number;
  readonly lostPackets: number;
  /** lostPackets / totalPackets, percent, as iperf3 computes it. */
  readonly lostPercent: number;
  /** The receiver's inter-arrival jitter (RFC 1889), milliseconds. */
  readonly jitterMs: number;
}

export type Iperf3Result = Iperf3TcpResult | Iperf3UdpResult;

function decode(json: string): Report {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    const excerpt = json.trim().slice(0, 120) || '(empty)';
    throw IPERF3_ERRORS.error('iperf3_bad_output', {
      reason: `not JSON (${(err as Error).message}): ${excerpt}`,
    });
  }
  const parsed = reportSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(document)' : '(document)';
    throw IPERF3_ERRORS.error('iperf3_bad_output', { reason: `${where}: ${issue?.message ?? 'invalid'}` });
  }
  if (parsed.data.error !== undefined) {
    throw IPERF3_ERRORS.error('iperf3_client_failed', { reason: parsed.data.error });
  }
  return parsed.data;
}

/** Parses one `iperf3 -c ... -J` report, TCP or UDP; throws Iperf3Error on errors or odd output. */
export function parseIperf3Result(json: string): Iperf3Result {
  const report = decode(json);
  const received = report.end?.sum_received;
  const sent = report.end?.sum_sent;
  if (received === undefined || sent === undefined) {
    throw IPERF3_ERRORS.error('iperf3_bad_output', { reason: 'end.sum_received or end.sum_sent is missing' });
  }
  const testStart = report.start?.test_start;
  const protocol = testStart?.protocol ?? (report.end?.sum !== undefined ? 'UDP' : 'TCP');
  const info: Iperf3RunInfo = {
    version: report.start?.version ?? null,
    streams: testStart?.num_streams ?? 1,
    reverse: (testStart?.reverse ?? 0) !== 0,
    targetBitsPerSecond: testStart?.target_bitrate ?? 0,
    blockSize: testStart?.blksize ?? null,
    omitSeconds: testStart?.omit ?? 0,
    seconds: received.seconds,
    sentBitsPerSecond: sent.bits_per_second,
    receivedBitsPerSecond: received.bits_per_second,
    sentBytes: sent.bytes,
    receivedBytes: received.bytes,
    receiveBufferBytes: report.start?.rcvbuf_actual ?? null,
    cpuClientPercent: report.end?.cpu_utilization_percent?.host_total ?? null,
    cpuServerPercent: report.end?.cpu_utilization_percent?.remote_total ?? null,
  };
  if (protocol === 'TCP') return { protocol: 'tcp', ...info, retransmits: sent.retransmits ?? null };
  if (protocol !== 'UDP') {
    throw IPERF3_ERRORS.error('iperf3_bad_output', { reason: `unknown protocol ${protocol}` });
  }
  const { packets, lost_packets: lost, lost_percent: lostPercent, jitter_ms: jitter } = received;
  if (packets === undefined || lost === undefined || lostPercent === undefined || jitter === undefined) {
    throw IPERF3_ERRORS.error('iperf3_bad_output', {
      reason: 'end.sum_received lacks packets, lost_packets, lost_percent or jitter_ms (a UDP run)',
    });
  }
  return {
    protocol: 'udp',
    ...info,
    sentPackets: sent.packets ?? packets,
    totalPackets: packets,
    lostPackets: lost,
    lostPercent,
    jitterMs: jitter,
  };
}

/** Parses a TCP run's report; a UDP report is iperf3_bad_output. */
export function parseIperf3TcpResult(json: string): Iperf3TcpResult {
  const result = parseIperf3Result(json);
  if (result.protocol !== 'tcp') {
    throw IPERF3_ERRORS.error('iperf3_bad_output', { reason: `expected a TCP run, got ${result.protocol}` });
  }
  return result;
}

/** Parses a UDP run's report; a TCP report is iperf3_bad_output. */
export function parseIperf3UdpResult(json: string): Iperf3UdpResult {
  const result = parseIperf3Result(json);
  if (result.protocol !== 'udp') {
    throw IPERF3_ERRORS.error('iperf3_bad_output', { reason: `expected a UDP run, got ${result.protocol}` });
  }
  return result;
}
