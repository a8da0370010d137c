// Serves the workspace's TypeScript to Node as JavaScript stripped ahead of time. Node strips
// types itself with a WebAssembly compiler that every thread instantiates on its first .ts file:
// ~14 MiB of RSS in the main thread and again in each shard, more than a shard's own code. This
// hook hands Node the stripped text from a cache instead, so no thread of the edge starts it.
//
// The cache is keyed by the source's hash, so an edited file is a miss, never a stale hit. On a
// thread's first miss, one child process (paying the compiler once, then exiting) strips every
// workspace file into the cache; whatever is still missing after that, Node strips as before.
//
// Plain JavaScript on purpose: it runs before any TypeScript can be served.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Where stripped sources live: <hash of the TypeScript>.js. */
export const STRIPPED_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'sluice-stripped');
const BUILDER = join(import.meta.dirname, 'strip-sources.js');
const REGISTERED = Symbol.for('sluice.strippedSources');

/** The cache file for a TypeScript source. */
export function strippedPath(source) {
  return join(STRIPPED_CACHE_DIR, `${createHash('sha256').update(source).digest('hex')}.js`);
}

function readCached(source) {
  try {
    return readFileSync(strippedPath(source), 'utf8');
  } catch {
    return null;
  }
}

let built = false;

function buildCache() {
  built = true;
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
      let js = readCached(loaded.source);
      if (js === null && !built) {
        buildCache();
        js = readCached(loaded.source);
      }
      return js === null ? loaded : { format: 'module', source: js, shortCircuit: true };
    },
  });
}
