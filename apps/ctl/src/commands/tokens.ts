// `sluicectl token ...`: API tokens of a user (yourself unless --user). A new token's secret is
// printed once; the server keeps only its hash.

import { apiTokenListSchema, apiTokenSchema, createdTokenSchema } from '@sluice/api';
import { formatJson, formatTokens } from '../format.ts';
import type { CommandContext } from './context.ts';

const tokensPath = (user = 'me'): string => `/v1/users/${encodeURIComponent(user)}/tokens`;

export async function tokenCreate(ctx: CommandContext, name: string, user?: string): Promise<void> {
  const body = await ctx.client.request('POST', tokensPath(user), { name });
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const made = ctx.client.parse(createdTokenSchema, body, `POST ${tokensPath(user)}`);
  ctx.out(`token ${made.name} (${made.id}), shown this once:\n${made.token}\n`);
}

export async function tokenList(ctx: CommandContext, user?: string): Promise<void> {
  const body = await ctx.client.request('GET', tokensPath(user));
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(
    formatTokens(ctx.client.parse(apiTokenListSchema, body, `GET ${tokensPath(user)}`).tokens, ctx.now()),
  );
}

export async function tokenRevoke(ctx: CommandContext, id: string, user?: string): Promise<void> {
  const path = `${tokensPath(user)}/${encodeURIComponent(id)}`;
  const body = await ctx.client.request('DELETE', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const token = ctx.client.parse(apiTokenSchema, body, `DELETE ${path}`);
  ctx.out(`token ${token.name} (${token.id}) revoked\n`);
}
