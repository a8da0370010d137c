// An API failure as the console shows it: the code and message of the server's
// `{ error: { code, message } }`, or a code of our own when the request never got an answer.

import { apiErrorBodySchema } from '@sluice/api';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

/** The ApiError of a failed response's body (checked with the server's own error schema). */
export function apiErrorOf(body: unknown, status: number): ApiError {
  const parsed = apiErrorBodySchema.safeParse(body);
  if (parsed.success) return new ApiError(parsed.data.error.code, parsed.data.error.message, status);
  return new ApiError('bad_response', `HTTP ${status} without an API error body`, status);
}

/** Any thrown value as an ApiError, so every error on screen has a code. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Error) return new ApiError('network_error', error.message, 0);
  return new ApiError('network_error', String(error), 0);
}

/** A request body refused in the browser by the API's own schema, as the server would phrase it. */
export function invalidInput(issues: readonly { path: readonly PropertyKey[]; message: string }[]): ApiError {
  const text = issues
    .map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`)
    .join('; ');
  return new ApiError('bad_request', text, 0);
}
