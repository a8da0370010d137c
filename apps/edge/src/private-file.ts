// How the managed edge writes its files beside the bundle (counters, applied rules): readable
// by its own user only, and replaced whole, so a reader sees the old file or the new, never a part.

import { rename, rm, writeFile } from 'node:fs/promises';

export const PRIVATE_FILE_MODE = 0o600;

/** Replaces `file` with `text` at mode 0600, through a temporary file renamed over it. */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  // A temporary file left by a killed process may be more open than 0600: a fresh one is made.
  await rm(temp, { force: true });
  await writeFile(temp, text, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  await rename(temp, file);
}
