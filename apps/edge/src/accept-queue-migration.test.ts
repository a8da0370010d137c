// The hand-over's warning about net.ipv4.tcp_migrate_req, from files standing in for the sysctl.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptQueueMigrationProblem } from './accept-queue-migration.ts';

let dir: string | null = null;
afterEach(() => {
  if (dir !== null) removeDir(dir);
  dir = null;
});

function sysctlFile(value: string): string {
  dir = tempDir('sluice-migrate-');
  const file = join(dir, 'tcp_migrate_req');
  writeFileSync(file, value);
  return file;
}

describe('acceptQueueMigrationProblem', () => {
  it('is quiet when queued connections migrate', () => {
    expect(acceptQueueMigrationProblem(sysctlFile('1\n'))).toBeNull();
  });

  it('names the sysctl, its value and how to set it when they do not', () => {
    expect(acceptQueueMigrationProblem(sysctlFile('0\n'))).toBe(
      "net.ipv4.tcp_migrate_req is 0: connections waiting in the old edge's accept queues are reset as its listeners close; set it to 1 (sysctl -w net.ipv4.tcp_migrate_req=1, kept in /etc/sysctl.d/60-sluice.conf)",
    );
  });

  it('says a kernel without it lacks it', () => {
    dir = tempDir('sluice-migrate-');
    expect(acceptQueueMigrationProblem(join(dir, 'absent'))).toMatch(
      /^net\.ipv4\.tcp_migrate_req is missing \(Linux 5\.14\+ has it\)/,
    );
  });
});
