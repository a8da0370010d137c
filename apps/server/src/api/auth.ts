// Bearer-token authentication and the admin check, as one onRequest hook: every route but the
// public ones needs `Authorization: Bearer TOKEN` of a live token, and admin routes an admin's.

import type { FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import type { ApiContext } from './api-context.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function authHook(context: ApiContext): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const config = request.routeOptions.config;
    if (config.public === true) return;
    const header = request.headers.authorization;
    const token = header === undefined ? null : (BEARER.exec(header)?.[1] ?? null);
    if (token === null) {
      context.metrics?.authFailures.inc({ reason: 'missing_token' });
      throw apiError(
        'unauthorized',
        header === undefined
          ? 'no token: send Authorization: Bearer TOKEN'
          : 'the Authorization header is not "Bearer TOKEN"',
      );
    }
    const user = await context.store.users.authenticate(token);
    if (user === null) {
      context.metrics?.authFailures.inc({ reason: 'unknown_token' });
      throw apiError('unauthorized', 'unknown or revoked token');
    }
    request.user = user;
    if (config.admin === true && user.role !== 'admin') {
      throw apiError(
        'forbidden',
        `${config.action ?? request.url} needs an admin token; ${user.name} has role ${user.role}`,
      );
    }
  };
}
