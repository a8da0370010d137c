// /v1/users: users, their passwords and their API tokens. `:user` is an id, a name, or `me`.
// Admins manage everyone; a user may see themselves and manage their own tokens.

import {
  type ApiTokenList,
  type CreatedToken,
  changePasswordBodySchema,
  createTokenBodySchema,
  createUserBodySchema,
  type DeletedUser,
  resetPasswordBodySchema,
  type TokenParams,
  tokenParamsSchema,
  type User,
  type UserList,
  type UserParams,
  updateUserBodySchema,
  userParamsSchema,
} from '@sluice/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import { hashPassword, verifyPassword } from '../passwords.ts';
import type { UserRecord } from '../store/records.ts';
import { type ApiContext, recordChange, userOf } from './api-context.ts';
import { parseInput } from './parse-body.ts';
import { tokenView, userView } from './views.ts';

export function userRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store } = context;

  /** The user `:user` names, recorded as the audit target; not_found otherwise. */
  async function target(request: FastifyRequest, idOrName: string): Promise<UserRecord> {
    const caller = userOf(request);
    const user = idOrName === 'me' ? caller : await store.users.find(idOrName);
    if (user === null) throw apiError('not_found', `no user with id or name ${JSON.stringify(idOrName)}`);
    request.auditTarget = user.id;
    return user;
  }

  /** As target(), and only the caller themselves unless the caller is an admin. */
  async function ownOrAdmin(request: FastifyRequest, idOrName: string): Promise<UserRecord> {
    const caller = userOf(request);
    const user = await target(request, idOrName);
    if (caller.role !== 'admin' && user.id !== caller.id) {
      throw apiError('forbidden', `${caller.name} may act only on their own user, not ${user.name}`);
    }
    return user;
  }

  const userParam = (request: FastifyRequest<{ Params: UserParams }>): string =>
    parseInput(userParamsSchema, request.params, 'params').user;

  app.get('/v1/users', { config: { admin: true } }, async () => {
    return { users: (await store.users.list()).map(userView) } satisfies UserList;
  });

  app.post('/v1/users', { config: { action: 'user.add', admin: true } }, async (request, reply) => {
    const body = parseInput(createUserBodySchema, request.body);
    // Hashed before the write, so a taken name costs the hash but never leaves a user half made.
    const hash = body.password === undefined ? null : await hashPassword(body.password);
    const user = await store.transaction(async (tx) => {
      if ((await tx.users.getByName(body.name)) !== null) {
        throw apiError('name_taken', `name: a user named ${JSON.stringify(body.name)} already exists`);
      }
      const made = await tx.users.create(body.name, body.role, body.displayName ?? null);
      if (hash !== null) await tx.users.setPassword(made.id, hash, false);
      return (await tx.users.find(made.id))!;
    });
    request.auditTarget = user.id;
    recordChange(request, null, userView(user));
    return reply.code(201).send(userView(user) satisfies User);
  });

  app.get<{ Params: UserParams }>('/v1/users/:user', { config: { action: 'user.show' } }, async (request) =>
    userView(await ownOrAdmin(request, userParam(request))),
  );

  app.patch<{ Params: UserParams }>(
    '/v1/users/:user',
    { config: { action: 'user.update', admin: true } },
    async (request) => {
      const user = await target(request, userParam(request));
      const body = parseInput(updateUserBodySchema, request.body);
      if (body.disabled === true && user.id === userOf(request).id) {
        throw apiError('bad_request', 'disabled: an admin cannot disable themselves');
      }
      const updated = await store.users.update(user.id, body);
      if (updated === null) throw apiError('not_found', `user ${user.name} was deleted meanwhile`);
      recordChange(request, userView(user), userView(updated));
      return userView(updated);
    },
  );

  app.delete<{ Params: UserParams }>(
    '/v1/users/:user',
    { config: { action: 'user.remove', admin: true } },
    async (request) => {
      const user = await target(request, userParam(request));
      if (user.id === userOf(request).id)
        throw apiError('bad_request', 'user: an admin cannot delete themselves');
      // Their rules first: each is drained from its edge; an edge that does not answer drops
      // the rule when it reconnects (the rule is gone here either way).
      const removed: string[] = [];
      for (const rule of await store.rules.list({ owner: user.name })) {
        try {
          await context.rules.remove(rule);
        } catch (error) {
          context.logger.warn(
            { ruleId: rule.id, err: error },
            'rule removed here; its edge drops it on reconnect',
          );
        }
        removed.push(rule.id);
      }
      const gone = await store.users.delete(user.id);
      if (gone === null) throw apiError('not_found', `user ${user.name} was deleted meanwhile`);
      const deleted = { user: userView(user), rules: removed, ...gone } satisfies DeletedUser;
      recordChange(request, deleted, null);
      return deleted;
    },
  );

  app.put('/v1/users/me/password', { config: { action: 'user.password' } }, async (request, reply) => {
    const user = userOf(request);
    const body = parseInput(changePasswordBodySchema, request.body);
    request.auditTarget = user.id;
    const current = await store.users.passwordHash(user.id);
    if (current === null || !(await verifyPassword(body.currentPassword, current))) {
      throw apiError('unauthorized', 'currentPassword: not the current password');
    }
    await store.users.setPassword(user.id, await hashPassword(body.newPassword), false);
    // Every other session of the user ends; the one that changed it goes on.
    await store.users.deleteSessions(user.id, request.sessionId);
    return reply.code(204).send();
  });

  app.post<{ Params: UserParams }>(
    '/v1/users/:user/password-reset',
    { config: { action: 'user.password_reset', admin: true } },
    async (request, reply) => {
      const user = await target(request, userParam(request));
      const body = parseInput(resetPasswordBodySchema, request.body);
      await store.users.setPassword(user.id, await hashPassword(body.temporaryPassword), true);
      await store.users.deleteSessions(user.id);
      recordChange(request, userView(user), userView((await store.users.find(user.id)) ?? user));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: UserParams }>('/v1/users/:user/tokens', async (request) => {
    const user = await ownOrAdmin(request, userParam(request));
    return { tokens: (await store.users.listTokens(user.id)).map(tokenView) } satisfies ApiTokenList;
  });

  app.post<{ Params: UserParams }>(
    '/v1/users/:user/tokens',
    { config: { action: 'token.create' } },
    async (request, reply) => {
      const user = await ownOrAdmin(request, userParam(request));
      const body = parseInput(createTokenBodySchema, request.body);
      const made = await store.users.createToken(user.id, body.name);
      const token = (await store.users.listTokens(user.id)).find((t) => t.id === made.id)!;
      recordChange(request, null, tokenView(token));
      return reply.code(201).send({ ...tokenView(token), token: made.token } satisfies CreatedToken);
    },
  );

  app.delete<{ Params: TokenParams }>(
    '/v1/users/:user/tokens/:token',
    { config: { action: 'token.revoke' } },
    async (request) => {
      const params = parseInput(tokenParamsSchema, request.params, 'params');
      const user = await ownOrAdmin(request, params.user);
      const before = (await store.users.listTokens(user.id)).find((token) => token.id === params.token);
      const revoked = await store.users.revokeToken(user.id, params.token);
      if (revoked === null)
        throw apiError('not_found', `${user.name} has no token ${JSON.stringify(params.token)}`);
      recordChange(request, before === undefined ? null : tokenView(before), tokenView(revoked));
      return tokenView(revoked);
    },
  );
}
