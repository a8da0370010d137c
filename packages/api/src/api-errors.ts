// The operator API's error codes, in one table: the HTTP status the server answers with and the
// exit code sluicectl ends with. The message is what the code means; the server raises each
// with a sentence about the case at hand. docs/server-api.md and docs/ctl.md list the same rows,
// and tests keep them in sync.

import { defineErrors } from '@sluice/errors';
import { z } from 'zod';

export const API_ERRORS = defineErrors('api', {
  unauthorized: { message: 'no token, or an unknown / revoked token', status: 401, exitCode: 10 },
  forbidden: { message: "the token's user may not do this", status: 403, exitCode: 11 },
  bad_request: {
    message: 'the request did not validate; the message names the field',
    status: 400,
    exitCode: 12,
  },
  not_found: { message: 'no such edge / rule / route', status: 404, exitCode: 13 },
  port_in_use: { message: 'the rule overlaps another rule of the same edge', status: 409, exitCode: 14 },
  name_taken: { message: 'an edge or rule name already used on that edge', status: 409, exitCode: 15 },
  client_not_connected: { message: 'the edge has no control session now', status: 422, exitCode: 16 },
  activation_failed: { message: 'the edge reported the rule failed', status: 422, exitCode: 17 },
  ack_timeout: {
    message: 'the edge did not ack in time; the rule stays pending and is pushed again on reconnect',
    status: 504,
    exitCode: 18,
  },
  edge_revoked: { message: 'pushing to a revoked edge', status: 409, exitCode: 19 },
  // 1 stays free for what no table holds: a code from a newer server, or a crash.
  internal: { message: 'a bug in the server', status: 500, exitCode: 20 },
  rate_limited: {
    message: 'too many failed logins for this user from this address; Retry-After says when to try again',
    status: 429,
    exitCode: 21,
  },
  csrf_failed: {
    message: 'a write with a session cookie needs an Origin of this server and the X-Sluice-CSRF header',
    status: 403,
    exitCode: 22,
  },
  password_change_required: {
    message: 'the password was reset: change it (PUT /v1/users/me/password) before anything else',
    status: 403,
    exitCode: 23,
  },
  not_granted: {
    message: 'outside every grant of the user; the message names what failed: edge, port or protocol',
    status: 403,
    exitCode: 24,
  },
  store_unavailable: {
    message: 'the server cannot reach its database now; retry once it is back',
    status: 503,
    exitCode: 25,
  },
  tenant_limit: {
    message: 'the owner holds as many rules or listen ports on that edge as a user may (server config)',
    status: 409,
    exitCode: 26,
  },
});

export type ApiErrorCode = (typeof API_ERRORS.codes)[number];

/** Every error the API answers: `{ "error": { "code", "message" } }`. */
export const apiErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().min(1).meta({ description: 'a code of the table, or a newer one' }),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error' });
export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;

/** The API body of an error of the table. */
export function apiErrorBody(code: ApiErrorCode, message: string): ApiErrorBody {
  return { error: { code, message } };
}
