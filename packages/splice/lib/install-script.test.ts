// The install script's failure path: where the build tools are missing, it says so in one line,
// records that line for the loader, and fails the install only under --strict.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '@sluice/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'install.mjs');
const REASON = 'node-gyp or node-addon-api is not installed (devDependencies of @sluice/splice)';

let root: string;

beforeEach(() => {
  // A package copy with no node_modules anywhere above it: node-gyp cannot be resolved.
  root = tempDir('sluice-splice-install-');
  mkdirSync(join(root, 'scripts'));
  copyFileSync(SCRIPT, join(root, 'scripts', 'install.mjs'));
});

afterEach(() => removeDir(root));

function install(...args: string[]) {
  // Nor through NODE_PATH, which pnpm sets for the scripts it runs.
  const { NODE_PATH: _, ...env } = process.env;
  return spawnSync(process.execPath, [join(root, 'scripts', 'install.mjs'), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
}

describe('the splice install script without node-gyp', () => {
  it('prints why, records it for the loader, and lets the install go on', () => {
    const run = install();
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      `@sluice/splice: native build failed: ${REASON}; sluice will use the JS relay path`,
    );
    expect(run.status).toBe(0);
    expect(readFileSync(join(root, 'build', 'build-failure.txt'), 'utf8')).toBe(`${REASON}\n`);
  });

  it('fails with the same line under --strict', () => {
    const run = install('--strict');
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`native build failed: ${REASON}`);
    expect(run.status).toBe(1);
  });
});
