// Scratch directories under the OS temp dir, for config files, data dirs and certificates. The
// caller owns the removal (a test's cleanup, or `removeDir` in an afterEach).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty directory named `PREFIXxxxxxx` under the OS temp dir. */
export function tempDir(prefix = 'sluice-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a directory made by `tempDir` and all it holds; a missing one is no error. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
