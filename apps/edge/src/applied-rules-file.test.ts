import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, tempDir } from '@sluice/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AppliedRulesState, readAppliedRules, writeAppliedRules } from './applied-rules-file.ts';
import { PRIVATE_FILE_MODE } from './private-file.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = join(dir, 'edge.bundle.rules');
});
afterEach(() => removeDir(dir));

const STATE: AppliedRulesState = {
  version: 1,
  edgeId: 'e_1',
  savedAt: '2026-12-04T20:00:00.000Z',
  upsert: [
    {
      id: 'r1',
      revision: 3,
      owner: 'ann',
      rule: { name: 'web', listen: '127.0.0.1:8080', targets: ['10.0.0.1:80'] },
    },
  ],
  owners: { ann: { bandwidth: '10Mbit' } },
  quotas: { ann: { stopAt: 1_000_000 } },
};

describe('the applied rules file', () => {
  it('is written at mode 0600 and read back whole for the same edge', async () => {
    await writeAppliedRules(file, STATE);
    expect((await stat(file)).mode & 0o777).toBe(PRIVATE_FILE_MODE);
    expect(await readAppliedRules(file, 'e_1')).toEqual({ state: STATE });
  });

  it('is not resumed, and says why, when missing, malformed, of the wrong shape or another edge’s', async () => {
    expect(await readAppliedRules(file, 'e_1')).toEqual({ state: null, reason: null });
    await writeFile(file, '{ "version": 1, ');
    expect(await readAppliedRules(file, 'e_1')).toEqual({ state: null, reason: `${file}: not JSON` });
    await writeFile(file, JSON.stringify({ ...STATE, upsert: [{ ...STATE.upsert[0], revision: 0 }] }));
    expect((await readAppliedRules(file, 'e_1')).state).toBeNull();
    expect(await readAppliedRules(file, 'e_1')).toMatchObject({
      reason: expect.stringMatching(/: upsert\.0\.revision: /),
    });
    await writeFile(file, JSON.stringify({ ...STATE, extra: true }));
    expect((await readAppliedRules(file, 'e_1')).state).toBeNull();
    await writeAppliedRules(file, STATE);
    expect(await readAppliedRules(file, 'e_2')).toEqual({
      state: null,
      reason: `${file}: another edge's rules`,
    });
  });
});
