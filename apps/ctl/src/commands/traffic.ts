// `sluicectl traffic [--rule ID | --edge E | --user U] [--from T] [--to T] [--bucket 1m|1h]`:
// traffic history from GET /v1/traffic, a line per bucket with bytes in and out, and on a
// terminal a sparkline column of in+out scaled to the busiest bucket. --from and --to take an
// ISO time, or a duration (`6h`, `7d`) meaning that long before now; the server checks the rest.

import { parseDuration, type Traffic, type TrafficSample, trafficSchema } from '@sluice/api';
import type { Command } from 'commander';
import { formatBytes, formatJson, formatTime, renderTable } from '../format.ts';
import type { CommandContext } from './context.ts';

export interface TrafficOptions {
  readonly rule?: string;
  readonly edge?: string;
  readonly user?: string;
  readonly from?: string;
  readonly to?: string;
  readonly bucket?: string;
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** One bar of a sparkline: ▁ for the least traffic above none, █ for `max`. */
export function spark(value: number, max: number): string {
  if (max <= 0 || value <= 0) return ' ';
  const index = Math.min(SPARKS.length - 1, Math.max(0, Math.ceil((value / max) * SPARKS.length) - 1));
  return SPARKS[index]!;
}

/** An ISO time as given, or a duration (`6h`) as that long before now. */
function timeArg(text: string, now: number): string {
  try {
    return new Date(now - parseDuration(text)).toISOString();
  } catch {
    return text;
  }
}

export function formatTraffic(traffic: Traffic, tty: boolean): string {
  const range = `${traffic.bucket} buckets from ${formatTime(traffic.from)} to ${formatTime(traffic.to)}`;
  if (traffic.samples.length === 0) return `no traffic in ${range}\n`;
  const sum = (sample: TrafficSample) => sample.bytesIn + sample.bytesOut;
  const max = Math.max(...traffic.samples.map(sum));
  const head = ['BUCKET', 'IN', 'OUT', ...(tty ? [''] : [])];
  const rows = traffic.samples.map((sample) => [
    formatTime(sample.at),
    formatBytes(sample.bytesIn),
    formatBytes(sample.bytesOut),
    ...(tty ? [spark(sum(sample), max)] : []),
  ]);
  rows.push(['total', formatBytes(traffic.totals.bytesIn), formatBytes(traffic.totals.bytesOut)]);
  return `${range}:\n${renderTable(head, rows)}`;
}

export async function traffic(ctx: CommandContext, options: TrafficOptions): Promise<void> {
  const now = ctx.now();
  const query = new URLSearchParams();
  for (const key of ['rule', 'edge', 'user', 'bucket'] as const) {
    const value = options[key];
    if (value !== undefined) query.set(key, value);
  }
  if (options.from !== undefined) query.set('from', timeArg(options.from, now));
  if (options.to !== undefined) query.set('to', timeArg(options.to, now));
  const path = query.size === 0 ? '/v1/traffic' : `/v1/traffic?${query}`;
  const body = await ctx.client.request('GET', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatTraffic(ctx.client.parse(trafficSchema, body, `GET ${path}`), ctx.tty));
}

/** Adds `traffic` to the program. */
export function trafficCommand(program: Command, contextOf: (command: Command) => CommandContext): void {
  program
    .command('traffic')
    .description(
      'traffic history per 1m or 1h bucket: of one rule, an edge, a user, or all you may see (a user: its own rules)',
    )
    .option('--rule <id>', "only this rule's traffic")
    .option('--edge <edge>', "only this edge's rules (name or id)")
    .option('--user <user>', "only this user's rules")
    .option('--from <time>', 'ISO time, or a duration before now like 6h (default: 24h for 1m, 30d for 1h)')
    .option('--to <time>', 'ISO time, or a duration before now (default: now)')
    .option('--bucket <width>', '1m (kept 7 days) or 1h (kept 400 days); default 1m')
    .action(async (options: TrafficOptions, command: Command) => {
      await traffic(contextOf(command), options);
    });
}
