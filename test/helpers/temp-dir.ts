// A scratch directory per test (config files), removed by the test's cleanup.

import { removeDir, tempDir } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';

export function makeTempDir(): string {
  const dir = tempDir('sluice-e2e-');
  deferCleanup(() => removeDir(dir));
  return dir;
}
