// The credential bundle on disk: written at mode 0600 from its first byte (a temporary file
// created with that mode, then renamed over the target, so no reader ever sees a partial or a
// more open file), and read back only when no one but its owner can read it.

import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type Bundle, bundleSchema } from '@sluice/protocol';
import { EDGE_ERRORS } from './errors.ts';

export const BUNDLE_MODE = 0o600;

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code && !e.message.startsWith(e.code)) return `${e.code} (${e.message})`;
  return e.message ?? String(err);
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * A bundle file about to be written: the checks that can fail (the file exists, the directory is
 * not writable) run in prepareBundleFile, before an enrollment code is spent on the server.
 */
export interface PendingBundleFile {
  /** Absolute path the bundle will have. */
  readonly file: string;
  /** Writes the bundle and moves it into place. */
  commit(bundle: Bundle): Promise<void>;
  /** Removes the temporary file (enrollment failed). */
  abort(): Promise<void>;
}

export async function prepareBundleFile(
  path: string,
  options: { force?: boolean } = {},
): Promise<PendingBundleFile> {
  const file = resolve(path);
  const existing = await lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw EDGE_ERRORS.error('bundle_unwritable', { file, reason: reasonOf(err) });
  });
  if (existing !== null && !options.force) throw EDGE_ERRORS.error('bundle_exists', { file });
  if (existing?.isDirectory())
    throw EDGE_ERRORS.error('bundle_unwritable', { file, reason: 'it is a directory' });

  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  let handle: FileHandle;
  try {
    // O_EXCL: never reuse (or follow a link planted at) the temporary name. The mode is given at
    // creation, so the file is never more open than 0600 (the umask can only narrow it).
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, BUNDLE_MODE);
  } catch (err) {
    throw EDGE_ERRORS.error('bundle_unwritable', { file, reason: reasonOf(err) });
  }
  let done = false;
  return {
    file,
    async commit(bundle) {
      try {
        await handle.writeFile(`${JSON.stringify(bundleSchema.parse(bundle), null, 2)}\n`, 'utf8');
        await handle.chmod(BUNDLE_MODE);
        await handle.sync();
        await handle.close();
        await rename(temp, file);
        done = true;
      } catch (err) {
        await handle.close().catch(() => {});
        await unlink(temp).catch(() => {});
        done = true;
        throw EDGE_ERRORS.error('bundle_unwritable', { file, reason: reasonOf(err) });
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}

/** Writes a bundle (mode 0600); `force` replaces an existing file. */
export async function writeBundleFile(
  path: string,
  bundle: Bundle,
  options: { force?: boolean } = {},
): Promise<string> {
  const pending = await prepareBundleFile(path, options);
  await pending.commit(bundle);
  return pending.file;
}

/** Reads and validates a bundle; refuses one that group or others may read. */
export async function readBundleFile(path: string): Promise<Bundle> {
  const file = resolve(path);
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw EDGE_ERRORS.error('bundle_unreadable', { file, reason: 'not a regular file' });
    if ((info.mode & 0o077) !== 0)
      throw EDGE_ERRORS.error('bundle_insecure', { file, mode: octal(info.mode) });
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (EDGE_ERRORS.is(err)) throw err;
    throw EDGE_ERRORS.error('bundle_unreadable', { file, reason: reasonOf(err) });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw EDGE_ERRORS.error('bundle_invalid', { file, reason: `not JSON: ${(err as Error).message}` });
  }
  const parsed = bundleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw EDGE_ERRORS.error('bundle_invalid', {
      file,
      reason: `${where}${issue?.message ?? 'does not validate'}`,
    });
  }
  return Object.freeze(parsed.data);
}
