// `sluicectl quota set|status|clear|remove`: a user's monthly quota on an edge.

import { parseByteSize, type Quota, quotaListSchema, quotaSchema } from '@sluice/api';
import type { Command } from 'commander';
import { ctlError } from '../errors.ts';
import { formatBytes, formatJson, formatTime, renderTable } from '../format.ts';
import type { CommandContext } from './context.ts';

const quotasOf = (user: string): string => `/v1/users/${encodeURIComponent(user)}/quotas`;
const pathOf = (user: string, edge: string): string => `${quotasOf(user)}/${encodeURIComponent(edge)}`;

function formatQuotas(quotas: readonly Quota[]): string {
  if (quotas.length === 0) return 'no quotas\n';
  return renderTable(
    ['USER', 'EDGE', 'QUOTA', 'USED', 'REMAINING', 'PERIOD', 'EXHAUSTED'],
    quotas.map((q) => [
      q.user.name,
      q.edge.name,
      formatBytes(q.monthlyBytes),
      `${formatBytes(q.usedBytes)} (${Math.floor((100 * q.usedBytes) / q.monthlyBytes)}%)`,
      formatBytes(q.remainingBytes),
      `${formatTime(q.periodStart)} .. ${formatTime(q.periodEnd)}`,
      q.exhaustedAt === null ? '-' : formatTime(q.exhaustedAt),
    ]),
  );
}

async function set(
  ctx: CommandContext,
  user: string,
  edge: string,
  options: { monthly: string; anchor?: string },
): Promise<void> {
  const monthlyBytes = parseByteSize(options.monthly);
  if (monthlyBytes === null) {
    throw ctlError(
      'bad_usage',
      `--monthly: ${JSON.stringify(options.monthly)} is not a size (bytes, or e.g. 64MiB, 10GB, 1TiB)`,
    );
  }
  const path = pathOf(user, edge);
  const body = await ctx.client.request('PUT', path, {
    monthlyBytes,
    ...(options.anchor === undefined ? {} : { periodAnchor: options.anchor }),
  });
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatQuotas([ctx.client.parse(quotaSchema, body, `PUT ${path}`)]));
}

async function status(ctx: CommandContext, user: string, edge: string | undefined): Promise<void> {
  const path = edge === undefined ? quotasOf(user) : pathOf(user, edge);
  const body = await ctx.client.request('GET', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const quotas =
    edge === undefined
      ? ctx.client.parse(quotaListSchema, body, `GET ${path}`).quotas
      : [ctx.client.parse(quotaSchema, body, `GET ${path}`)];
  ctx.out(formatQuotas(quotas));
}

async function clear(ctx: CommandContext, user: string, edge: string): Promise<void> {
  const path = `${pathOf(user, edge)}/clear`;
  const body = await ctx.client.request('POST', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatQuotas([ctx.client.parse(quotaSchema, body, `POST ${path}`)]));
}

async function remove(ctx: CommandContext, user: string, edge: string): Promise<void> {
  await ctx.client.request('DELETE', pathOf(user, edge));
  ctx.out(
    ctx.format === 'json'
      ? formatJson({ user, edge, deleted: true })
      : `removed the quota of ${user} on ${edge}\n`,
  );
}

/** Adds `quota` and its subcommands to the program. */
export function quotaCommands(program: Command, contextOf: (command: Command) => CommandContext): void {
  const quota = program.command('quota').description("manage users' monthly traffic quotas per edge");
  quota
    .command('set')
    .description('set the quota (bytes in + out per period) and push it to the edge')
    .argument('<user>', 'user name or id')
    .argument('<edge>', 'edge name or id')
    .requiredOption('--monthly <size>', 'bytes per period: 1073741824, 64MiB, 10GB, 1TiB')
    .option('--anchor <time>', 'ISO time: periods start on its day of the month at its time (UTC)')
    .action(
      async (user: string, edge: string, options: { monthly: string; anchor?: string }, command: Command) => {
        await set(contextOf(command), user, edge, options);
      },
    );
  quota
    .command('status')
    .description('show used, remaining and the period (all edges, or one)')
    .argument('[user]', 'user name or id (default: me)', 'me')
    .argument('[edge]', 'edge name or id')
    .action(async (user: string, edge: string | undefined, _options: unknown, command: Command) => {
      await status(contextOf(command), user, edge);
    });
  quota
    .command('clear')
    .description('zero the usage of the current period; a spent quota serves again at once')
    .argument('<user>', 'user name or id')
    .argument('<edge>', 'edge name or id')
    .action(async (user: string, edge: string, _options: unknown, command: Command) => {
      await clear(contextOf(command), user, edge);
    });
  quota
    .command('remove')
    .description('remove the quota')
    .argument('<user>', 'user name or id')
    .argument('<edge>', 'edge name or id')
    .action(async (user: string, edge: string, _options: unknown, command: Command) => {
      await remove(contextOf(command), user, edge);
    });
}
