import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript without declarations (it runs before TypeScript can be served)
import { decodeEntry, encodeEntry, entryPath, STRIPPED_CACHE_DIR } from './stripped-sources.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const ts = Buffer.from('const size: number = 1; // é\n');
const js = 'const size         = 1; // é\n';

describe('stripped-source cache entries', () => {
  it('round-trips the JavaScript of the exact TypeScript it was made from', () => {
    const entry = encodeEntry(ts, js);
    expect(entry.subarray(0, entry.indexOf(0x0a)).toString()).toBe(String(ts.length));
    expect(decodeEntry(entry, ts)).toBe(js);
  });

  it('misses on a source edited to the same length', () => {
    const edited = Buffer.from(ts);
    edited[6] = 'S'.charCodeAt(0);
    expect(decodeEntry(encodeEntry(ts, js), edited)).toBeNull();
  });

  it('misses on a source of another length, even when one is a prefix of the other', () => {
    const entry = encodeEntry(ts, js);
    expect(decodeEntry(entry, ts.subarray(0, ts.length - 1))).toBeNull();
    expect(decodeEntry(entry, Buffer.concat([ts, Buffer.from(' ')]))).toBeNull();
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['no length line', Buffer.from('const a = 1;')],
    ['an empty length line', Buffer.from(`\n${ts}`)],
    ['a length that is not a number', Buffer.from(`2x\n${ts}`)],
    ['a length past the end', Buffer.from(`${ts.length + 1}\n${ts}`)],
    ['a truncated TypeScript', Buffer.from(`${ts.length}\n${ts.subarray(0, 5)}`)],
  ])('reads a malformed entry (%s) as a miss', (_name, entry) => {
    expect(decodeEntry(entry, ts)).toBeNull();
  });

  it('places an entry at its source path under the cache, and none for a file outside the workspace', () => {
    const source = join(ROOT, 'packages', 'core', 'src', 'shard.ts');
    expect(entryPath(pathToFileURL(source).href)).toBe(
      join(STRIPPED_CACHE_DIR, 'packages', 'core', 'src', 'shard.ts.entry'),
    );
    expect(entryPath(pathToFileURL('/etc/hosts.ts').href)).toBeNull();
    expect(entryPath(pathToFileURL(join(ROOT, '..', 'elsewhere.ts')).href)).toBeNull();
  });

  it('is filled by the builder with entries the hook serves for the files as they are now', () => {
    const built = spawnSync(process.execPath, [join(import.meta.dirname, 'strip-sources.js'), ROOT]);
    expect(built.status).toBe(0);
    const source = join(ROOT, 'packages', 'core', 'src', 'burst-log.ts');
    const typescript = readFileSync(source);
    expect(typescript.toString()).toMatch(/:\s*number\b/);
    const served: string | null = decodeEntry(
      readFileSync(entryPath(pathToFileURL(source).href)),
      typescript,
    );
    // The type annotations are gone; the code is still there.
    expect(served).not.toMatch(/:\s*number\b/);
    expect(served).toMatch(/export class BurstLog/);
  });
});
