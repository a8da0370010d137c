// The console's typed API client: openapi-fetch over the types generated from
// docs/openapi.json, on the session cookie. Every write carries the CSRF header the server asks
// of cookie writes (the browser adds Origin itself). An answer that says the session ended is
// reported once to the app, which goes back to the login page.

import { CSRF_HEADER } from '@sluice/api';
import createClient, { type Middleware } from 'openapi-fetch';
import { type ApiError, apiErrorOf } from './api-error.ts';
import type { paths } from './openapi.d.ts';
import { responseCheck } from './response-check.ts';

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

let onSessionEnded: (error: ApiError) => void = () => {};

/** What the app does when a request answers 401 (the session ended, or never began). */
export function whenSessionEnds(handler: (error: ApiError) => void): void {
  onSessionEnded = handler;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') request.headers.set(CSRF_HEADER, '1');
    return request;
  },
};
api.use(csrf, responseCheck);

interface Answer<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

/**
 * The data of an answer, or its ApiError thrown. `login` answers 401 for a wrong password,
 * which is not a session that ended: pass `sessionCheck: false` there.
 */
export async function ok<T>(
  pending: Promise<Answer<T>>,
  options: { sessionCheck?: boolean } = {},
): Promise<T> {
  const answer = await pending;
  if (answer.response.ok) return answer.data as T;
  const error = apiErrorOf(answer.error, answer.response.status);
  if (answer.response.status === 401 && options.sessionCheck !== false) onSessionEnded(error);
  throw error;
}

/** The path of an API URL (for EventSource, which openapi-fetch does not cover). */
export function apiUrl(path: string, query: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, value);
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}
