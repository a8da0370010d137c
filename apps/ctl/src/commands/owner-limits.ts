// `sluicectl owner-limits set|get|delete EDGE OWNER`: the caps an owner's rules share on an edge.

import { type OwnerLimits, ownerLimitsSchema } from '@sluice/api';
import type { Command } from 'commander';
import { ctlError } from '../errors.ts';
import { formatJson, renderTable } from '../format.ts';
import { parseLimits } from '../rule-args.ts';
import type { CommandContext } from './context.ts';

const pathOf = (edge: string, owner: string): string =>
  `/v1/edges/${encodeURIComponent(edge)}/owners/${encodeURIComponent(owner)}/limits`;

function formatOwnerLimits(limits: OwnerLimits): string {
  const rows = Object.entries(limits.limits).map(([key, value]) => [key, String(value)]);
  return `${limits.owner} on ${limits.edge.name}:\n${rows.length === 0 ? 'no caps\n' : renderTable(null, rows)}`;
}

async function set(
  ctx: CommandContext,
  edge: string,
  owner: string,
  pairs: readonly string[],
): Promise<void> {
  const limits = parseLimits(pairs);
  if (limits === undefined)
    throw ctlError('bad_usage', 'owner-limits set needs at least one --limit KEY=VALUE');
  const path = pathOf(edge, owner);
  const body = await ctx.client.request('PUT', path, { limits });
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatOwnerLimits(ctx.client.parse(ownerLimitsSchema, body, `PUT ${path}`)));
}

async function get(ctx: CommandContext, edge: string, owner: string): Promise<void> {
  const path = pathOf(edge, owner);
  const body = await ctx.client.request('GET', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatOwnerLimits(ctx.client.parse(ownerLimitsSchema, body, `GET ${path}`)));
}

async function remove(ctx: CommandContext, edge: string, owner: string): Promise<void> {
  await ctx.client.request('DELETE', pathOf(edge, owner));
  ctx.out(
    ctx.format === 'json'
      ? formatJson({ edge, owner, deleted: true })
      : `deleted the caps of ${owner} on ${edge}\n`,
  );
}

/** Adds `owner-limits` and its subcommands to the program. */
export function ownerLimitCommands(program: Command, contextOf: (command: Command) => CommandContext): void {
  const limits = program
    .command('owner-limits')
    .description("manage the caps an owner's rules share on an edge");
  limits
    .command('set')
    .description('set the caps (replacing any before) and push them to the edge')
    .argument('<edge>', 'edge name or id')
    .argument('<owner>', 'owner (user name)')
    .option(
      '--limit <key=value>',
      'a cap, e.g. bandwidth=100Mbit or max_connections=100 (repeatable; keys as in [owners.X.limits])',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .action(async (edge: string, owner: string, options: { limit?: string[] }, command: Command) => {
      await set(contextOf(command), edge, owner, options.limit ?? []);
    });
  limits
    .command('get')
    .description('show the caps')
    .argument('<edge>', 'edge name or id')
    .argument('<owner>', 'owner (user name)')
    .action(async (edge: string, owner: string, _options: unknown, command: Command) => {
      await get(contextOf(command), edge, owner);
    });
  limits
    .command('delete')
    .description('remove the caps; the edge drops them')
    .argument('<edge>', 'edge name or id')
    .argument('<owner>', 'owner (user name)')
    .action(async (edge: string, owner: string, _options: unknown, command: Command) => {
      await remove(contextOf(command), edge, owner);
    });
}
