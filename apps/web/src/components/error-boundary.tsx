// A page that throws while rendering shows the error (code client_error) instead of going
// blank, and can be tried again.

import type { ComponentChildren } from 'preact';
import { useErrorBoundary } from 'preact/hooks';
import { ApiError } from '../api/api-error.ts';
import { Problem } from './problem.tsx';

export function ErrorBoundary({ children }: { children: ComponentChildren }) {
  const [error, reset] = useErrorBoundary();
  if (error === undefined) return <>{children}</>;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <section>
      <h1>This page failed</h1>
      <Problem error={error instanceof ApiError ? error : new ApiError('client_error', message, 0)} />
      <button type="button" onClick={reset}>
        Try again
      </button>
    </section>
  );
}
