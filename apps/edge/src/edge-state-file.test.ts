import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, tempDir } from '@sluice/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EdgeState, readEdgeState, writeEdgeState } from './edge-state-file.ts';
import { PRIVATE_FILE_MODE } from './private-file.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = join(dir, 'edge.bundle.state');
});
afterEach(() => removeDir(dir));

const STATE: EdgeState = {
  version: 1,
  edgeId: 'e_1',
  bootId: 'boot-1',
  rules: { r1: { bytesIn: 10, bytesOut: 20, connectionsTotal: 1, rejected: 0, connectErrors: 0 } },
  usage: { owners: { ann: 30 }, rules: { r1: 30 } },
};

describe('the edge state file', () => {
  it('is written at mode 0600 and read back for the same edge', async () => {
    await writeEdgeState(file, STATE);
    expect((await stat(file)).mode & 0o777).toBe(PRIVATE_FILE_MODE);
    expect(await readEdgeState(file, 'e_1')).toEqual({ state: STATE });
  });

  it('replaces a more open temporary file a killed process left behind', async () => {
    await writeFile(`${file}.tmp`, 'partial', { mode: 0o644 });
    await writeEdgeState(file, STATE);
    expect((await stat(file)).mode & 0o777).toBe(PRIVATE_FILE_MODE);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(STATE);
  });

  it('is not used, and says why, when missing, unreadable, malformed or another edge’s', async () => {
    expect(await readEdgeState(file, 'e_1')).toEqual({ state: null, reason: null });
    await writeFile(file, '{ not json');
    expect(await readEdgeState(file, 'e_1')).toEqual({ state: null, reason: `${file}: not JSON` });
    await writeFile(file, JSON.stringify({ ...STATE, bootId: '' }));
    expect(await readEdgeState(file, 'e_1')).toMatchObject({
      state: null,
      reason: expect.stringMatching(/edge\.bundle\.state: ./),
    });
    await writeEdgeState(file, STATE);
    expect(await readEdgeState(file, 'e_2')).toEqual({
      state: null,
      reason: `${file}: another edge's state`,
    });
    expect(await readEdgeState(dir, 'e_1')).toEqual({ state: null, reason: `${dir}: EISDIR` });
  });
});
