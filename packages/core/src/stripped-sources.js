// Serves the workspace's TypeScript to Node as JavaScript stripped ahead of time. Node strips
// types itself with a WebAssembly compiler that every thread instantiates on its first .ts file:
// ~14 MiB of RSS in the main thread and again in each shard, more than a shard's own code. This
// hook hands Node the stripped text from a cache instead, so no thread of the edge starts it.
//
// A cache entry sits at the source's path under STRIPPED_CACHE_DIR and holds the TypeScript it
// was made from, then its JavaScript. It is served only when that TypeScript equals the source
// byte for byte, so an edited file is a miss, never a stale hit. The comparison is a native
// memcmp: a hash computed here in JavaScript was a hot loop that V8 optimized in every thread at
// start-up (--trace-opt), and node:crypto would stay loaded in every shard for nothing (about
// 1.4 MiB each).
//
// On a thread's first miss, one child process (paying the compiler once, then exiting) strips
// every workspace file into the cache; whatever is still missing after that, Node strips as
// before.
//
// Plain JavaScript on purpose: it runs before any TypeScript can be served.

import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Where stripped sources live, at the same relative paths as their TypeScript. */
export const STRIPPED_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'sluice-stripped');
const BUILDER = join(import.meta.dirname, 'strip-sources.js');
const REGISTERED = Symbol.for('sluice.strippedSources');
const NEWLINE = 0x0a;
const ROOT_URL = `${pathToFileURL(ROOT).href}/`;

/**
 * The cache entry for a TypeScript file of the workspace (a file: URL), or null for a file
 * outside it. String operations only: it runs for every module each thread loads, and node:path's
 * normalisation called that often is hot enough to start V8's optimizing compiler at start-up.
 */
export function entryPath(url) {
  if (!url.startsWith(ROOT_URL)) return null;
  const rel = decodeURIComponent(url.slice(ROOT_URL.length));
  if (rel.includes('/../') || rel.startsWith('../')) return null;
  return `${STRIPPED_CACHE_DIR}/${rel}.entry`;
}

/** An entry's bytes: the TypeScript's byte length on a line, the TypeScript, the JavaScript. */
export function encodeEntry(source, js) {
  return Buffer.concat([Buffer.from(`${source.length}\n`), source, Buffer.from(js, 'utf8')]);
}

/** The JavaScript of an entry made from exactly `source`, or null (malformed, or made from other text). */
export function decodeEntry(entry, source) {
  const end = entry.indexOf(NEWLINE);
  if (end <= 0) return null;
  const length = Number(entry.subarray(0, end).toString('latin1'));
  const start = end + 1;
  if (!Number.isSafeInteger(length) || length !== source.length || start + length > entry.length) return null;
  if (!entry.subarray(start, start + length).equals(source)) return null;
  return entry.subarray(start + length).toString('utf8');
}

function readCached(url, source) {
  try {
    const path = entryPath(url);
    if (path === null) return null;
    return decodeEntry(readFileSync(path), typeof source === 'string' ? Buffer.from(source) : source);
  } catch {
    return null;
  }
}

let built = false;

function buildCache() {
  built = true;
  // Loaded here, on a miss, rather than at the top: most threads never need it.
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  spawnSync(process.execPath, [BUILDER, ROOT], { stdio: 'ignore' });
}

/** Registers the hook on this thread (once; a second call is a no-op). */
export function useStrippedSources() {
  if (globalThis[REGISTERED]) return;
  globalThis[REGISTERED] = true;
  registerHooks({
    load(url, context, nextLoad) {
      const loaded = nextLoad(url, context);
      if (loaded.format !== 'module-typescript') return loaded;
      let js = readCached(url, loaded.source);
      if (js === null && !built) {
        buildCache();
        js = readCached(url, loaded.source);
      }
      return js === null ? loaded : { format: 'module', source: js, shortCircuit: true };
    },
  });
}
