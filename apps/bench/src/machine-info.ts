// What the figures were measured on: they only compare within one machine and one run.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, release, totalmem, version } from 'node:os';
import { REPO_ROOT } from './repo-paths.ts';
import { findExecutable, versionLine } from './tools.ts';

export interface MachineInfo {
  readonly hostname: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryMiB: number;
  readonly kernel: string;
  readonly kernelVersion: string;
  readonly node: string;
  readonly iperf3: string | null;
  readonly haproxy: string | null;
  readonly iptables: string | null;
  readonly nginx: string | null;
  readonly socat: string | null;
  /** The checkout's commit, with `+dirty` when the tree has changes; null outside git. */
  readonly commit: string | null;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1] !== undefined) return match[1].trim();
  } catch {
    // Not Linux, or no /proc: os.cpus() below.
  }
  return cpus()[0]?.model ?? 'unknown';
}

function gitCommit(): string | null {
  const head = spawnSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return null;
  const status = spawnSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'], {
    encoding: 'utf8',
  });
  const dirty = status.status === 0 && `${status.stdout}`.trim() !== '';
  return `${`${head.stdout}`.trim()}${dirty ? '+dirty' : ''}`;
}

/** `socat version 1.7.4.4 on ...`: the second line of `socat -V` (the first is a banner). */
function socatVersion(): string | null {
  const binary = findExecutable('socat');
  if (binary === null) return null;
  const result = spawnSync(binary, ['-V'], { encoding: 'utf8', timeout: 5000 });
  if (result.error) return null;
  return /^socat version .*$/m.exec(`${result.stdout ?? ''}`)?.[0] ?? null;
}

export function machineInfo(): MachineInfo {
  return {
    hostname: hostname(),
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    kernel: release(),
    kernelVersion: version(),
    node: process.version,
    iperf3: versionLine(findExecutable('iperf3'), ['--version']),
    haproxy: versionLine(findExecutable('haproxy'), ['-v']),
    iptables: versionLine(findExecutable('iptables'), ['--version']),
    nginx: versionLine(findExecutable('nginx'), ['-v']),
    socat: socatVersion(),
    commit: gitCommit(),
  };
}
