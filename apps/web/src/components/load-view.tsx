// The three faces of a page's data: loading, its error (with code), or the content; plus the
// empty state when the content is an empty list.

import type { ComponentChildren } from 'preact';
import type { Load } from '../use-load.ts';
import { Problem } from './problem.tsx';

interface LoadViewProps<T> {
  readonly load: Load<T>;
  readonly what: string;
  readonly empty?: (data: T) => string | null;
  readonly children: (data: T) => ComponentChildren;
}

export function LoadView<T>({ load, what, empty, children }: LoadViewProps<T>) {
  if (load.state === 'error') return <Problem error={load.error} />;
  if (load.data === undefined)
    return (
      <p class="loading" aria-busy="true">
        Loading {what}…
      </p>
    );
  const emptyText = empty?.(load.data) ?? null;
  if (emptyText !== null) return <p class="empty">{emptyText}</p>;
  return <>{children(load.data)}</>;
}
