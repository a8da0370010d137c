// A data dir whose database was lost or damaged: sluice-server refuses to start, with one line
// saying what is wrong and what to do, rather than starting afresh (a new admin token, every edge
// unknown) or saying "ready" while every call fails.

import { openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { serveArgs } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { startControlPlane } from './helpers/control-plane.ts';
import { runServerCommand } from './helpers/server-process.ts';

afterEach(runCleanup);

async function stoppedPlaneWithData() {
  const plane = await startControlPlane();
  // Enough rows that the file has pages past its schema: edges and their enrollments.
  for (let i = 0; i < 200; i++) await plane.api.enroll(`edge-${String(i).padStart(3, '0')}`);
  expect((await fetch(`${plane.server.apiUrl}/readyz`)).status).toBe(200);
  // A clean stop: the last connection's close checkpoints the WAL into sluice.db.
  plane.server.signal('SIGTERM');
  expect((await plane.server.waitForExit(10_000)).code).toBe(0);
  return plane;
}

describe('a damaged database', () => {
  it('an empty sluice.db beside an existing key: store_empty, exit 8, nothing written', async () => {
    const plane = await stoppedPlaneWithData();
    const db = join(plane.dataDir, 'sluice.db');
    truncateSync(db, 0);
    const started = await runServerCommand(serveArgs(plane.dataDir));
    expect(started.code, started.stderr).toBe(8);
    expect(started.stderr).toBe(
      `store_empty: ${db} is missing or empty, but ${join(plane.dataDir, 'server.key')} is from an earlier start: restore a backup (sluice-server restore), or remove the data dir to start afresh\n`,
    );
    expect(started.stdout).not.toContain('admin token');
    expect(statSync(db).size).toBe(0);
  });

  it('a page overwritten mid-file: store_unusable naming quick_check, exit 8', async () => {
    const plane = await stoppedPlaneWithData();
    const db = join(plane.dataDir, 'sluice.db');
    const pages = statSync(db).size / 4096;
    expect(pages).toBeGreaterThan(4);
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(pages / 2) * 4096);
    const started = await runServerCommand(serveArgs(plane.dataDir));
    expect(started.code, started.stderr).toBe(8);
    expect(started.stderr).toMatch(
      new RegExp(
        `^store_unusable: ${db.replaceAll('/', '\\/')} fails SQLite's quick_check: .+; restore a backup \\(sluice-server restore\\) or move the file away\\n$`,
      ),
    );
  });
});
