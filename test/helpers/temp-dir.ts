// A scratch directory per test (config files), removed by the test's cleanup.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deferCleanup } from './cleanup.ts';

export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  deferCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
