// The child that fills the stripped-source cache (stripped-sources.js): every .ts file of the
// workspace's apps and packages, tests and declarations aside, each written as an entry at its
// own relative path (the TypeScript, then its JavaScript; see stripped-sources.js). Run as
// `node strip-sources.js ROOT`; it pays for Node's type-stripping compiler so the edge's
// threads need not. A file Node cannot strip is left out (Node reports it when it loads it).

import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeEntry, entryPath } from './stripped-sources.js';

const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', 'web']);

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) yield* sources(path);
    } else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.test.ts') &&
      !entry.name.endsWith('.d.ts')
    ) {
      yield path;
    }
  }
}

function strip(path) {
  const source = readFileSync(path);
  let js;
  try {
    js = stripTypeScriptTypes(source.toString('utf8'));
  } catch {
    return;
  }
  const target = entryPath(pathToFileURL(path).href);
  if (target === null) return;
  mkdirSync(dirname(target), { recursive: true });
  // Written aside, then renamed over: a thread reading meanwhile sees the old entry or the new.
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, encodeEntry(source, js));
  renameSync(temp, target);
}

const root = process.argv[2];
for (const top of ['apps', 'packages']) {
  for (const path of sources(join(root, top))) strip(path);
}
