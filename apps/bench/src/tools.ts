// The host programs the bench drives (iperf3, iptables, haproxy): found on PATH or in the sbin
// directories a non-login root shell may not have on PATH, and their version lines.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable `name`, or null when there is none. */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; the next directory.
    }
  }
  return null;
}

/** The first line `binary args` prints (stdout, else stderr), or null when it cannot run. */
export function versionLine(binary: string | null, args: readonly string[]): string | null {
  if (binary === null) return null;
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 5000 });
  if (result.error) return null;
  const text = `${result.stdout ?? ''}`.trim() || `${result.stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() || null;
}
