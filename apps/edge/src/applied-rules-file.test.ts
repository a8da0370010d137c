import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushedRule } from '@sluice/protocol';
import { removeDir, tempDir } from '@sluice/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppliedRulesWriter, journalOf, readAppliedRules } from './applied-rules-file.ts';
import { PRIVATE_FILE_MODE } from './private-file.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = join(dir, 'edge.bundle.rules');
});
afterEach(() => removeDir(dir));

const rule = (id: string, revision: number, port: number): PushedRule => ({
  id,
  revision,
  owner: 'ann',
  rule: { name: id, listen: `127.0.0.1:${port}`, targets: ['10.0.0.1:80'] },
});

const SAVED = {
  savedAt: '2026-12-04T20:00:00.000Z',
  upsert: [rule('r1', 3, 8080)],
  owners: { ann: { bandwidth: '10Mbit' } },
  quotas: { ann: { stopAt: 1_000_000 } },
};

async function written(): Promise<AppliedRulesWriter> {
  const writer = new AppliedRulesWriter(file, 'e_1');
  await writer.snapshot(SAVED);
  return writer;
}

/** The resumed state, which must be there. */
async function resumed(edgeId = 'e_1') {
  const read = await readAppliedRules(file, edgeId);
  if (read.state === null) throw new Error(`not resumed: ${read.reason}`);
  return read;
}

describe('the applied rules file', () => {
  it('is written at mode 0600 and read back whole for the same edge', async () => {
    await written();
    expect((await stat(file)).mode & 0o777).toBe(PRIVATE_FILE_MODE);
    const read = await resumed();
    expect(read.journalCut).toBeNull();
    expect(read.state).toMatchObject({ version: 1, edgeId: 'e_1', ...SAVED });
  });

  it('is not resumed, and says why, when missing, malformed, of the wrong shape or another edge’s', async () => {
    expect(await readAppliedRules(file, 'e_1')).toEqual({ state: null, reason: null });
    await writeFile(file, '{ "version": 1, ');
    expect(await readAppliedRules(file, 'e_1')).toEqual({ state: null, reason: `${file}: not JSON` });
    const whole = { version: 1, edgeId: 'e_1', ...SAVED };
    await writeFile(file, JSON.stringify({ ...whole, upsert: [{ ...SAVED.upsert[0], revision: 0 }] }));
    expect(await readAppliedRules(file, 'e_1')).toMatchObject({
      state: null,
      reason: expect.stringMatching(/: upsert\.0\.revision: /),
    });
    await writeFile(file, JSON.stringify({ ...whole, extra: true }));
    expect((await readAppliedRules(file, 'e_1')).state).toBeNull();
    // A file from before the journal (no generation) is resumed as it is.
    await writeFile(file, JSON.stringify(whole));
    expect((await resumed()).state.upsert).toEqual(SAVED.upsert);
    await written();
    expect(await readAppliedRules(file, 'e_2')).toEqual({
      state: null,
      reason: `${file}: another edge's rules`,
    });
  });

  it('appends each change to the journal and reads the snapshot with the journal applied, in order', async () => {
    const writer = await written();
    const before = await readFile(file, 'utf8');
    await writer.append({ upsert: [rule('r2', 1, 8081)], remove: [] });
    await writer.append({ upsert: [rule('r1', 4, 8082)], remove: [], quotas: { ann: { stopAt: 5 } } });
    await writer.append({ upsert: [rule('r3', 1, 8083)], remove: ['r2'], owners: { ann: {} } });
    // The snapshot is left as it was: a push costs its own rules.
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await stat(journalOf(file))).mode & 0o777).toBe(PRIVATE_FILE_MODE);
    const read = await resumed();
    expect(read.journalCut).toBeNull();
    expect(read.state.upsert).toEqual([rule('r1', 4, 8082), rule('r3', 1, 8083)]);
    expect(read.state.quotas).toEqual({ ann: { stopAt: 5 } });
    expect(read.state.owners).toEqual({ ann: {} });
    expect(read.state.savedAt).not.toBe(SAVED.savedAt);
  });

  it('a new snapshot starts a new journal; lines of an older generation are not applied', async () => {
    const writer = await written();
    await writer.append({ upsert: [rule('r2', 1, 8081)], remove: [] });
    const oldLine = await readFile(journalOf(file), 'utf8');
    await writer.snapshot({ ...SAVED, upsert: [rule('r9', 1, 8089)] });
    await expect(stat(journalOf(file))).rejects.toMatchObject({ code: 'ENOENT' });
    // As a crash between the rename and the journal's removal would leave it.
    await writeFile(journalOf(file), oldLine);
    const read = await resumed();
    expect(read.state.upsert).toEqual([rule('r9', 1, 8089)]);
    expect(read.journalCut).toBeNull();
    await writer.append({ upsert: [rule('r3', 1, 8083)], remove: [] });
    expect((await resumed()).state.upsert).toEqual([rule('r9', 1, 8089), rule('r3', 1, 8083)]);
  });

  it('stops at a torn or damaged line and says where, keeping the lines before it', async () => {
    const writer = await written();
    await writer.append({ upsert: [rule('r2', 1, 8081)], remove: [] });
    await appendFile(journalOf(file), '{"generation":');
    let read = await resumed();
    expect(read.state.upsert).toEqual([rule('r1', 3, 8080), rule('r2', 1, 8081)]);
    expect(read.journalCut).toBe(`${journalOf(file)}: line 2: not JSON`);

    const writer2 = await written();
    await writer2.append({ upsert: [rule('r2', 1, 8081)], remove: [] });
    const line = JSON.parse(await readFile(journalOf(file), 'utf8'));
    await appendFile(journalOf(file), `${JSON.stringify({ ...line, seq: 2, remove: 'r1' })}\n`);
    read = await resumed();
    expect(read.state.upsert).toEqual([rule('r1', 3, 8080), rule('r2', 1, 8081)]);
    expect(read.journalCut).toMatch(new RegExp(`^${journalOf(file)}: line 2: remove: `));

    // A line out of sequence (one lost in between) ends the journal too.
    await writeFile(journalOf(file), `${JSON.stringify({ ...line, seq: 2 })}\n`);
    read = await resumed();
    expect(read.state.upsert).toEqual([rule('r1', 3, 8080)]);
    expect(read.journalCut).toBe(`${journalOf(file)}: line 1: seq 2 after 0`);
  });

  it('asks for a snapshot first, and again once the journal outgrows it', async () => {
    const writer = new AppliedRulesWriter(file, 'e_1');
    expect(writer.wantsSnapshot).toBe(true);
    await expect(writer.append({ upsert: [], remove: ['r1'] })).rejects.toThrow(/before any snapshot/);
    await writer.snapshot(SAVED);
    expect(writer.wantsSnapshot).toBe(false);
    // Below 64 KiB a journal is never worth a snapshot, however small the snapshot.
    const big = Array.from({ length: 80 }, (_, i) => rule(`r${i}`, 1, 9000 + i));
    let lines = 0;
    while (!writer.wantsSnapshot) {
      await writer.append({ upsert: big, remove: [] });
      lines++;
    }
    const journalBytes = (await stat(journalOf(file))).size;
    expect(journalBytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(journalBytes - journalBytes / lines).toBeLessThan(64 * 1024);
    await writer.snapshot({ ...SAVED, upsert: big });
    expect(writer.wantsSnapshot).toBe(false);
  });

  it('remove() deletes the snapshot and its journal', async () => {
    const writer = await written();
    await writer.append({ upsert: [rule('r2', 1, 8081)], remove: [] });
    await writer.remove();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(journalOf(file))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(writer.wantsSnapshot).toBe(true);
  });
});
