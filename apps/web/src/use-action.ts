// A button or form's call to the API: busy while it runs, its error (with code) when it fails.

import { useState } from 'preact/hooks';
import { type ApiError, asApiError } from './api/api-error.ts';

export interface Action {
  readonly busy: boolean;
  readonly error: ApiError | null;
  /** Runs `call`; answers whether it succeeded. */
  run(call: () => Promise<unknown>): Promise<boolean>;
  fail(error: ApiError): void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  return {
    busy,
    error,
    fail: setError,
    async run(call) {
      setBusy(true);
      setError(null);
      try {
        await call();
        return true;
      } catch (failure) {
        setError(asApiError(failure));
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}
