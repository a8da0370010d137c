// An API error on screen: its code and message, in an alert region so screen readers hear it.

import type { ApiError } from '../api/api-error.ts';

export function Problem({ error }: { error: ApiError | null }) {
  if (error === null) return null;
  return (
    <p class="problem" role="alert">
      <code class="problem-code">{error.code}</code> {error.message}
    </p>
  );
}
