// /v1/auth: web sessions for the console. Login answers the same for an unknown user, a user
// without a password, a disabled user and a wrong password (and takes as long), so it tells an
// attacker nothing about who exists; failures per (user, address) lock the pair out for a while.

import { loginBodySchema, SESSION_COOKIE, type User } from '@sluice/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import { loginKey } from '../failure-throttle.ts';
import { decoyHash, verifyPassword } from '../passwords.ts';
import type { ApiContext } from './api-context.ts';
import { SESSION_MAX_AGE_MS } from './auth.ts';
import { parseInput } from './parse-body.ts';
import { userView } from './views.ts';

function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSecs: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSecs}${secure}`,
  );
}

export function authRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, logins } = context;

  app.post('/v1/auth/login', { config: { public: true, action: 'auth.login' } }, async (request, reply) => {
    const body = parseInput(loginBodySchema, request.body);
    const address = request.ip;
    request.auditTarget = body.user;
    const key = loginKey(body.user, address);
    const waitMs = logins.retryAfterMs(key);
    if (waitMs > 0) {
      context.metrics?.authFailures.inc({ reason: 'rate_limited' });
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      throw apiError('rate_limited', `too many failed logins; try again in ${Math.ceil(waitMs / 1000)} s`);
    }
    const user = await store.users.getByName(body.user);
    const hash = user === null ? null : await store.users.passwordHash(user.id);
    const matches = await verifyPassword(body.password, hash ?? (await decoyHash()));
    if (user === null || hash === null || !matches || user.disabled) {
      logins.failed(key);
      context.metrics?.authFailures.inc({ reason: 'bad_password' });
      throw apiError('unauthorized', 'wrong user name or password');
    }
    logins.succeeded(key);
    const session = await store.users.createSession(user.id);
    setCookie(request, reply, session.cookie, Math.floor(SESSION_MAX_AGE_MS / 1000));
    request.user = user;
    return userView(user) satisfies User;
  });

  app.post('/v1/auth/logout', { config: { action: 'auth.logout' } }, async (request, reply) => {
    if (request.sessionId !== null) await store.users.deleteSession(request.sessionId);
    setCookie(request, reply, '', 0);
    return reply.code(204).send();
  });
}
