// When a listener of an SO_REUSEPORT group closes, the connections waiting in its accept queue
// are reset unless net.ipv4.tcp_migrate_req is 1 (Linux 5.14+): then the kernel moves them to
// another listener of the group. A hand-over closes the old edge's listeners with the
// successor's beside them, so it drops no connection only with the sysctl on.

import { readFileSync } from 'node:fs';

export const MIGRATE_SYSCTL = 'net.ipv4.tcp_migrate_req';
const MIGRATE_FILE = '/proc/sys/net/ipv4/tcp_migrate_req';

/** null when queued connections migrate; else why they do not, for a warning. */
export function acceptQueueMigrationProblem(file: string = MIGRATE_FILE): string | null {
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch {
    return `${MIGRATE_SYSCTL} is missing (Linux 5.14+ has it): connections waiting in the old edge's accept queues are reset as its listeners close`;
  }
  if (value === '1') return null;
  return `${MIGRATE_SYSCTL} is ${value}: connections waiting in the old edge's accept queues are reset as its listeners close; set it to 1 (sysctl -w ${MIGRATE_SYSCTL}=1, kept in /etc/sysctl.d/60-sluice.conf)`;
}
