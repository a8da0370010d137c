// A temporary directory for generated configs, removed when the run ends or at exit.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';

export interface TempDir {
  readonly path: string;
  /** Removes the directory; safe to call twice. */
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `sluice-bench-${prefix}-`));
  const unregister = onCleanup(() => rmSync(path, { recursive: true, force: true }));
  return {
    path,
    remove: () => {
      unregister();
      rmSync(path, { recursive: true, force: true });
    },
  };
}
