// The host programs the bench drives (iperf3, iptables, haproxy): found on PATH or in the sbin
// directories a non-login root shell may not have on PATH, and their version lines. The bench
// installs nothing: scripts/system-deps.sh (run by `./run bench`) does.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BENCH_ERRORS } from './errors.ts';

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

/** How to get a missing program: `./run bench` installs every Debian package the bench drives. */
export function installHint(packages: string): string {
  return `./run bench installs it, or: apt-get install -y ${packages}`;
}

/** null when `tool` is here; else the tool_missing message, which a contender gives as its skip reason. */
export function missingTool(tool: string, packages: string): string | null {
  return findExecutable(tool) === null
    ? BENCH_ERRORS.message('tool_missing', { tool, install: installHint(packages) })
    : null;
}

/** The absolute path of `tool`, or a tool_missing error naming how to install it. */
export function requireTool(tool: string, packages: string): string {
  const binary = findExecutable(tool);
  if (binary === null) throw BENCH_ERRORS.error('tool_missing', { tool, install: installHint(packages) });
  return binary;
}
