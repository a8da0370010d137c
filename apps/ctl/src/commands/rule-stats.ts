// `sluicectl rule-stats ID [--watch]`: a rule's totals and rates. With --watch it prints the
// current figures as one line, then a line per `event: stats` of `GET /v1/stats/stream?rule=ID`
// until `signal` aborts (Ctrl-C); with --format json each line is the event's JSON object.

import { type RuleStats, ruleStatsSchema } from '@sluice/api';
import { ctlError } from '../errors.ts';
import { formatJson, formatStats, formatStatsLine } from '../format.ts';
import type { CommandContext } from './context.ts';

export async function ruleStats(ctx: CommandContext, id: string): Promise<void> {
  const path = `/v1/rules/${encodeURIComponent(id)}/stats`;
  const body = await ctx.client.request('GET', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatStats(ctx.client.parse(ruleStatsSchema, body, `GET ${path}`)));
}

function watchLine(ctx: CommandContext, body: unknown, stats: RuleStats): string {
  return ctx.format === 'json' ? `${JSON.stringify(body)}\n` : `${formatStatsLine(stats)}\n`;
}

export async function watchRuleStats(ctx: CommandContext, id: string, signal: AbortSignal): Promise<void> {
  // The stream is open before the current figures are read, so a change between the two is
  // printed (once more, at worst), never lost. A wrong id is not_found from the stream.
  const stream = `/v1/stats/stream?${new URLSearchParams({ rule: id })}`;
  const events = await ctx.client.events(stream, signal);
  const path = `/v1/rules/${encodeURIComponent(id)}/stats`;
  const body = await ctx.client.request('GET', path);
  const first = ctx.client.parse(ruleStatsSchema, body, `GET ${path}`);
  ctx.out(watchLine(ctx, body, first));
  for await (const event of events) {
    if (event.event !== 'stats') continue;
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw ctlError('bad_response', `${ctx.client.server} sent a stats event that is not JSON`);
    }
    const stats = ctx.client.parse(ruleStatsSchema, data, `GET ${stream}`);
    // The server filters by ?rule=; this guards against one that sends every rule's events.
    if (String(stats.rule) !== String(first.rule)) continue;
    ctx.out(watchLine(ctx, data, stats));
  }
}
