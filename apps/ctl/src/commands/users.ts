// `sluicectl user ...`: users and their passwords. Passwords are read from standard input, never
// from the command line (where ps and shell history would keep them).

import { deletedUserSchema, type User, userListSchema, userSchema } from '@sluice/api';
import { formatJson, formatUser, formatUsers } from '../format.ts';
import type { CommandContext } from './context.ts';

const userPath = (user: string): string => `/v1/users/${encodeURIComponent(user)}`;

/** The first `count` lines of standard input. */
async function stdinLines(ctx: CommandContext, count: number): Promise<string[]> {
  const lines = (await ctx.stdin()).split(/\r?\n/);
  return Array.from({ length: count }, (_, i) => lines[i] ?? '');
}

async function printUser(ctx: CommandContext, body: unknown, what: string, headline: (user: User) => string) {
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const user = ctx.client.parse(userSchema, body, what);
  ctx.out(formatUser(user, headline(user)));
}

export async function userAdd(
  ctx: CommandContext,
  name: string,
  options: { role?: string; displayName?: string; passwordStdin?: boolean },
): Promise<void> {
  const password = options.passwordStdin ? (await stdinLines(ctx, 1))[0] : undefined;
  const body = await ctx.client.request('POST', '/v1/users', {
    name,
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
    ...(password === undefined ? {} : { password }),
  });
  await printUser(ctx, body, 'POST /v1/users', (user) => `user ${user.name} (${user.id}) made`);
}

export async function userList(ctx: CommandContext): Promise<void> {
  const body = await ctx.client.request('GET', '/v1/users');
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatUsers(ctx.client.parse(userListSchema, body, 'GET /v1/users').users));
}

export async function userShow(ctx: CommandContext, user: string): Promise<void> {
  const body = await ctx.client.request('GET', userPath(user));
  await printUser(ctx, body, `GET ${userPath(user)}`, (shown) => `user ${shown.name} (${shown.id})`);
}

export async function userSetDisabled(ctx: CommandContext, user: string, disabled: boolean): Promise<void> {
  const body = await ctx.client.request('PATCH', userPath(user), { disabled });
  await printUser(ctx, body, `PATCH ${userPath(user)}`, (changed) =>
    disabled
      ? `user ${changed.name} disabled: its tokens and sessions are refused`
      : `user ${changed.name} enabled`,
  );
}

export async function userRemove(ctx: CommandContext, user: string): Promise<void> {
  const body = await ctx.client.request('DELETE', userPath(user));
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const gone = ctx.client.parse(deletedUserSchema, body, `DELETE ${userPath(user)}`);
  ctx.out(
    `user ${gone.user.name} (${gone.user.id}) deleted with ${gone.rules.length} rule(s)` +
      `${gone.rules.length === 0 ? '' : ` (${gone.rules.join(', ')})`}, ${gone.tokens} token(s) and ${gone.sessions} session(s)\n`,
  );
}

/** Your own password: standard input holds the current one, then the new one. */
export async function userPasswd(ctx: CommandContext): Promise<void> {
  const [currentPassword, newPassword] = await stdinLines(ctx, 2);
  await ctx.client.request('PUT', '/v1/users/me/password', { currentPassword, newPassword });
  ctx.out(
    ctx.format === 'json' ? formatJson({ changed: true }) : 'password changed; your other sessions ended\n',
  );
}

/** An admin sets a temporary password (from standard input) that must be changed at next login. */
export async function userResetPassword(ctx: CommandContext, user: string): Promise<void> {
  const [temporaryPassword] = await stdinLines(ctx, 1);
  await ctx.client.request('POST', `${userPath(user)}/password-reset`, { temporaryPassword });
  ctx.out(
    ctx.format === 'json'
      ? formatJson({ reset: true })
      : `temporary password set for ${user}: it must be changed at the next login\n`,
  );
}
