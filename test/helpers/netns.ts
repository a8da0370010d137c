// A network namespace of the test's own (`ip netns add`), with its loopback up and the sysctls a
// test sets there instead of on the host (per-namespace ones, such as net.ipv4.tcp_migrate_req).
// The cleanup deletes it.

import { execFileSync } from 'node:child_process';
import { requireProgram } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';

let made = 0;

/** Creates the namespace and answers its name; `sysctls` are set inside it (`key=value`). */
export function createNetns(sysctls: Readonly<Record<string, string>> = {}): string {
  const ip = requireProgram('ip', 'iproute2');
  made += 1;
  const name = `sluice-test-${process.pid}-${made}`;
  execFileSync(ip, ['netns', 'add', name]);
  deferCleanup(() => execFileSync(ip, ['netns', 'delete', name]));
  execFileSync(ip, ['netns', 'exec', name, ip, 'link', 'set', 'lo', 'up']);
  for (const [key, value] of Object.entries(sysctls)) {
    // As docs/edge.md writes it: `sysctl -w KEY=VALUE`.
    execFileSync(ip, ['netns', 'exec', name, requireProgram('sysctl', 'procps'), '-w', `${key}=${value}`]);
  }
  return name;
}
