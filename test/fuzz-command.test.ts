// docs/security.md's fuzzing command, run as written: it runs the named target's properties with
// the asked number of inputs and passes.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/edge-process.ts';

const COMMAND = './run fuzz --runs 1000 frames';

it('./run fuzz runs the named fuzz target with the asked number of inputs', async () => {
  expect(readFileSync(join(REPO_ROOT, 'docs', 'security.md'), 'utf8')).toContain(`${COMMAND}     #`);
  const { stdout, stderr } = await promisify(execFile)('bash', ['-c', COMMAND], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(stderr).toContain('fuzz: 1000 inputs per property: frames.fuzz.test.ts');
  expect(stdout).toMatch(/Test Files\s+.*1 passed/);
  expect(stdout).toMatch(/Tests\s+.*3 passed/);
});
