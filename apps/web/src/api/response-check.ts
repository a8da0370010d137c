// Every JSON answer checked at run time against the schema @sluice/api's route table gives it:
// the generated types say what the contract promises at build time, this says the server kept
// the promise. An answer that does not match is an error with code bad_response naming the
// route and the first mismatch, never a page rendering half-understood data.

import { API_ROUTES, type ApiRoute } from '@sluice/api';
import type { Middleware } from 'openapi-fetch';
import { ApiError } from './api-error.ts';

interface CompiledRoute {
  readonly route: ApiRoute;
  readonly pattern: RegExp;
}

// Routes with fewer parameters first, so `/v1/users/me/password` wins over `/v1/users/:user`.
const COMPILED: readonly CompiledRoute[] = API_ROUTES.map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/:[A-Za-z]+/g, '[^/]+')}$`),
})).sort((a, b) => (a.route.path.match(/:/g)?.length ?? 0) - (b.route.path.match(/:/g)?.length ?? 0));

/** The route a request went to, or undefined. */
export function routeOf(method: string, path: string): ApiRoute | undefined {
  return COMPILED.find((entry) => entry.route.method === method && entry.pattern.test(path))?.route;
}

/** null when `body` is what `route` promises for `status`; else what is wrong. */
export function contractProblem(route: ApiRoute, status: number, body: unknown): string | null {
  const answer = route.responses[status];
  if (answer === undefined || answer.kind !== 'json') return null;
  const parsed = answer.schema.safeParse(body);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0]!;
  return `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`;
}

export const responseCheck: Middleware = {
  async onResponse({ request, response }) {
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('application/json'))
      return response;
    const path = new URL(request.url).pathname;
    const route = routeOf(request.method, path);
    if (route === undefined) return response;
    const problem = contractProblem(route, response.status, await response.clone().json());
    if (problem !== null) {
      throw new ApiError(
        'bad_response',
        `${request.method} ${path}: the answer breaks the API contract at ${problem}`,
        response.status,
      );
    }
    return response;
  },
};
