// A root filesystem to install into without touching the host: a bash script run in private mount
// and network namespaces, where /etc, /opt, /usr/local/bin and /var/lib are overlays whose writes
// land in a scratch dir. install.sh runs there for real: it creates its user, writes its files,
// applies its sysctl (to the namespace's own network stack) and enables its units, and all of it
// is gone when the script ends.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CommandResult, commandResult } from './command-result.ts';
import { makeTempDir } from './temp-dir.ts';

const OVERLAID = ['/etc', '/opt', '/usr/local/bin', '/var/lib'] as const;

/** The overlay mounts, then `set -e` and the script; loopback is brought up for its listeners. */
function sandboxed(script: string, scratch: string): string {
  const mounts = OVERLAID.map((dir) => {
    const key = dir.slice(1).replaceAll('/', '_');
    const upper = join(scratch, 'upper', key);
    const work = join(scratch, 'work', key);
    mkdirSync(upper, { recursive: true });
    mkdirSync(work, { recursive: true });
    return `mount -t overlay overlay -o lowerdir=${dir},upperdir=${upper},workdir=${work} ${dir}`;
  });
  return ['set -e', ...mounts, 'ip link set lo up', script].join('\n');
}

/** Runs `script` (bash) in a fresh sandbox, from `cwd`, to completion. */
export function runInRootSandbox(script: string, cwd: string, timeoutMs = 120_000): Promise<CommandResult> {
  // /opt may be missing on a minimal host; an overlay needs its mount point.
  mkdirSync('/opt', { recursive: true });
  const child = spawn(
    'unshare',
    ['--mount', '--net', '--propagation', 'private', 'bash', '-c', sandboxed(script, makeTempDir())],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return commandResult(child, 'the root sandbox', timeoutMs);
}
