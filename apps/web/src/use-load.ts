// Data fetching for a page: one async load with loading, error and data states, and a reload.
// Each page knows what it needs and when; a caching layer would add little to a console whose
// pages each read a few small lists.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { type ApiError, asApiError } from './api/api-error.ts';

export type Load<T> =
  | { readonly state: 'loading'; readonly data?: T }
  | { readonly state: 'error'; readonly error: ApiError; readonly data?: T }
  | { readonly state: 'ok'; readonly data: T };

export function useLoad<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
): Load<T> & { reload: () => void } {
  const [result, setResult] = useState<Load<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setResult((previous) => ({
      state: 'loading',
      ...(previous.data === undefined ? {} : { data: previous.data }),
    }));
    load().then(
      (data) => current && setResult({ state: 'ok', data }),
      (error: unknown) => current && setResult({ state: 'error', error: asApiError(error) }),
    );
    return () => {
      current = false;
    };
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { ...result, reload };
}
