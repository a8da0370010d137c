// Authentication and the admin check, as one onRequest hook. Every route but the public ones
// needs either `Authorization: Bearer TOKEN` of a live token, or the session cookie of a live web
// session. A write by cookie must also come from this server's own origin and carry the CSRF
// header (a browser sends neither across sites without the server's consent); Bearer requests
// skip that check, as no browser attaches them by itself. A session whose password was reset by
// an admin may only change it, see who it is, and log out.

import { CSRF_HEADER, SESSION_COOKIE } from '@sluice/api';
import type { FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import type { AuthFailureReason } from '../metrics.ts';
import type { UserRecord } from '../store/records.ts';
import type { ApiContext } from './api-context.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** A session ends after 8 hours unused, and after 7 days whatever its use. */
export const SESSION_IDLE_MS = 8 * 3_600_000;
export const SESSION_MAX_AGE_MS = 7 * 24 * 3_600_000;

/** What a session that must change its password may still do. */
const ALLOWED_BEFORE_CHANGE = new Set(['user.password', 'auth.logout', 'user.show']);

/** The session cookie's value in a Cookie header, or null. */
export function sessionCookieOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) return part.slice(at + 1).trim() || null;
  }
  return null;
}

function checkCsrf(request: FastifyRequest): string | null {
  if (request.method === 'GET' || request.method === 'HEAD') return null;
  if (request.headers[CSRF_HEADER] !== '1')
    return `a write with a session cookie needs the header ${CSRF_HEADER}: 1`;
  const origin = request.headers.origin;
  const own = `${request.protocol}://${request.headers.host ?? ''}`;
  if (origin !== own)
    return `Origin ${origin === undefined ? '(none)' : JSON.stringify(origin)} is not this server (${own})`;
  return null;
}

export function authHook(context: ApiContext): (request: FastifyRequest) => Promise<void> {
  const refuse = (reason: AuthFailureReason, error: Error): never => {
    context.metrics?.authFailures.inc({ reason });
    throw error;
  };
  return async (request) => {
    const config = request.routeOptions.config;
    if (config.public === true) return;
    const header = request.headers.authorization;
    let user: UserRecord;
    if (header !== undefined) {
      const token = BEARER.exec(header)?.[1] ?? null;
      if (token === null)
        refuse('missing_token', apiError('unauthorized', 'the Authorization header is not "Bearer TOKEN"'));
      const found = await context.store.users.authenticate(token as string);
      if (found === null)
        return refuse('unknown_token', apiError('unauthorized', 'unknown or revoked token'));
      user = found;
    } else {
      const cookie = sessionCookieOf(request.headers.cookie);
      if (cookie === null) {
        return refuse(
          'missing_token',
          apiError(
            'unauthorized',
            'no token: send Authorization: Bearer TOKEN, or log in (POST /v1/auth/login)',
          ),
        );
      }
      const session = await context.store.users.session(cookie, SESSION_IDLE_MS, SESSION_MAX_AGE_MS);
      if (session === null)
        return refuse('unknown_session', apiError('unauthorized', 'the session has ended; log in again'));
      const csrf = checkCsrf(request);
      if (csrf !== null) return refuse('csrf', apiError('csrf_failed', csrf));
      if (session.user.mustChangePassword && !ALLOWED_BEFORE_CHANGE.has(config.action ?? '')) {
        throw apiError(
          'password_change_required',
          `${session.user.name}'s password was reset: change it first (PUT /v1/users/me/password)`,
        );
      }
      request.sessionId = session.id;
      user = session.user;
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
