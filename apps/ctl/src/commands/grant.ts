// `sluicectl grant add|list|revoke`: an admin's grants of edges, ports and protocols to users.

import { type Grant, grantListSchema, grantSchema, revokedGrantSchema } from '@sluice/api';
import type { Command } from 'commander';
import { ctlError } from '../errors.ts';
import { formatJson, renderTable } from '../format.ts';
import { PROTOCOLS } from '../rule-args.ts';
import type { CommandContext } from './context.ts';

const PORTS = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/** `8080` or `8000-8099` as the API's `{ from, to }`; the server checks the range itself. */
function parsePorts(text: string): { from: number; to: number } {
  const match = PORTS.exec(text);
  if (match === null)
    throw ctlError('bad_usage', `PORTS ${JSON.stringify(text)} is not PORT or LO-HI (e.g. 8000-8099)`);
  const from = Number(match[1]);
  return { from, to: match[2] === undefined ? from : Number(match[2]) };
}

/** `tcp`, `udp` or `tcp,udp`. */
function parseProtocols(text: string): string[] {
  const protocols = text.split(',');
  for (const protocol of protocols) {
    if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
      throw ctlError(
        'bad_usage',
        `--protocols ${JSON.stringify(text)}: ${JSON.stringify(protocol)} is not tcp or udp`,
      );
    }
  }
  return protocols;
}

const edgeOf = (grant: Grant): string => (grant.edge === '*' ? '*' : grant.edge.name);
const portsOf = (grant: Grant): string =>
  grant.ports.from === grant.ports.to ? String(grant.ports.from) : `${grant.ports.from}-${grant.ports.to}`;

function formatGrants(grants: readonly Grant[]): string {
  if (grants.length === 0) return 'no grants\n';
  return renderTable(
    ['ID', 'USER', 'EDGE', 'PORTS', 'PROTOCOLS'],
    grants.map((grant) => [
      grant.id,
      grant.user.name,
      edgeOf(grant),
      portsOf(grant),
      grant.protocols.join(','),
    ]),
  );
}

async function add(
  ctx: CommandContext,
  user: string,
  edge: string,
  ports: string,
  protocols: string,
): Promise<void> {
  const request = { user, edge, ports: parsePorts(ports), protocols: parseProtocols(protocols) };
  const body = await ctx.client.request('POST', '/v1/grants', request);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const grant = ctx.client.parse(grantSchema, body, 'POST /v1/grants');
  ctx.out(
    `granted ${grant.id}: ${grant.user.name} on ${edgeOf(grant)}, ports ${portsOf(grant)}, ${grant.protocols.join(',')}\n`,
  );
}

async function list(ctx: CommandContext, filter: { user?: string; edge?: string }): Promise<void> {
  const query = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== undefined));
  const path = query.size === 0 ? '/v1/grants' : `/v1/grants?${query}`;
  const body = await ctx.client.request('GET', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatGrants(ctx.client.parse(grantListSchema, body, `GET ${path}`).grants));
}

async function revoke(ctx: CommandContext, id: string): Promise<void> {
  const path = `/v1/grants/${encodeURIComponent(id)}`;
  const body = await ctx.client.request('DELETE', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const revoked = ctx.client.parse(revokedGrantSchema, body, `DELETE ${path}`);
  const removed = revoked.removed.map(
    (rule) => `  removed rule ${rule.id} (${rule.name} on ${rule.edge.name})\n`,
  );
  ctx.out(`revoked ${revoked.grant.id}\n${removed.join('')}`);
}

/** Adds `grant` and its subcommands to the program. */
export function grantCommands(program: Command, contextOf: (command: Command) => CommandContext): void {
  const grant = program.command('grant').description("manage users' grants of edges, ports and protocols");
  grant
    .command('add')
    .description('grant a user the right to forward on an edge (or every edge: *) for ports and protocols')
    .argument('<user>', 'user name')
    .argument('<edge>', 'edge name or id, or * for every edge')
    .argument('<ports>', 'listen ports: PORT or LO-HI')
    .option('--protocols <list>', 'tcp, udp or tcp,udp', 'tcp')
    .action(
      async (user: string, edge: string, ports: string, options: { protocols: string }, command: Command) => {
        await add(contextOf(command), user, edge, ports, options.protocols);
      },
    );
  grant
    .command('list')
    .description('list grants (a user token: its own)')
    .option('--user <name>', 'only the grants of this user')
    .option('--edge <edge>', 'only the grants on this edge (with the * ones)')
    .action(async (options: { user?: string; edge?: string }, command: Command) => {
      await list(contextOf(command), options);
    });
  grant
    .command('revoke')
    .description('revoke a grant; the rules only it allowed are drained and removed')
    .argument('<id>', 'grant id')
    .action(async (id: string, _options: unknown, command: Command) => {
      await revoke(contextOf(command), id);
    });
}
