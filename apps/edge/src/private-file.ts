// How the managed edge keeps its files beside the bundle (counters, applied rules): readable by
// its own user only, replaced whole, so a reader sees the old file or the new, never a part, and
// read back only when they are whole, well formed and this edge's.

import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { z } from 'zod';

export const PRIVATE_FILE_MODE = 0o600;

/** Replaces `file` with `text` at mode 0600, through a temporary file renamed over it. */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  // A temporary file left by a killed process may be more open than 0600: a fresh one is made.
  await rm(temp, { force: true });
  await writeFile(temp, text, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  await rename(temp, file);
}

/**
 * The JSON `file` holds, checked with `schema`, or why it cannot be used: none there (reason
 * null), unreadable, not JSON, of the wrong shape, or written for another edge than `edgeId`
 * (`what` names the content in that reason).
 */
export async function readPrivateJson<T extends { readonly edgeId: string }>(
  file: string,
  schema: z.ZodType<T>,
  edgeId: string,
  what: string,
): Promise<{ state: T } | { state: null; reason: string | null }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { state: null, reason: code === 'ENOENT' ? null : `${file}: ${code ?? String(err)}` };
  }
  const checked = parseJson(text, schema, 'file');
  if (typeof checked === 'string') return { state: null, reason: `${file}: ${checked}` };
  if (checked.edgeId !== edgeId) return { state: null, reason: `${file}: another edge's ${what}` };
  return { state: checked };
}

/**
 * `text` as JSON checked with `schema`, or what is wrong with it: `not JSON`, or the first
 * issue's path (`whole` when it is the whole value) and message.
 */
export function parseJson<T>(text: string, schema: z.ZodType<T>, whole: string): T | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const checked = schema.safeParse(parsed);
  if (checked.success) return checked.data;
  const issue = checked.error.issues[0];
  return `${issue?.path.join('.') || whole}: ${issue?.message}`;
}
