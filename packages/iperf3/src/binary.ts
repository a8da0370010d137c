// Where the iperf3 binary is, and what version it is.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { IPERF3_ERRORS, IPERF3_INSTALL_HINT } from './errors.ts';

/** Searched after PATH: a non-login root shell may lack the sbin directories. */
const EXTRA_DIRS = ['/usr/local/bin', '/usr/bin', '/usr/local/sbin', '/usr/sbin'];

/** The absolute path of iperf3 (or of `name`), or null when there is none. */
export function findIperf3(name = 'iperf3'): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** findIperf3, or iperf3_missing with the command that installs it. */
export function requireIperf3(binary?: string): string {
  const found = findIperf3(binary);
  if (found === null) {
    throw IPERF3_ERRORS.error('iperf3_missing', {
      install: binary === undefined ? IPERF3_INSTALL_HINT : `no executable at ${binary}`,
    });
  }
  return found;
}

/** `iperf 3.12 (cJSON 1.7.15)`: the first line of `iperf3 --version`, or null if it cannot run. */
export function iperf3Version(binary?: string): string | null {
  const found = findIperf3(binary);
  if (found === null) return null;
  const result = spawnSync(found, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (result.error) return null;
  return `${result.stdout ?? ''}`.trim().split('\n')[0]?.trim() || null;
}
