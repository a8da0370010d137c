// The database connections of each replica, from pg_stat_activity. PostgreSQL sees every replica
// as the same user from 127.0.0.1, and both name their pool `sluice-server` (the bus
// `sluice-replica-bus`), so each backend's client port is matched against the TCP sockets the
// replica's process holds (/proc/PID/fd and /proc/net/tcp): exact, per replica, no guessing.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { psql } from './replica-processes.ts';

/** Local ports of the TCP sockets `pid` holds whose peer port is `remotePort`. */
export function clientPortsTo(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return new Set();
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // Closed since the listing.
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
      const local = Number.parseInt(fields[1]!.split(':')[1]!, 16);
      const remote = Number.parseInt(fields[2]!.split(':')[1]!, 16);
      if (remote === remotePort) ports.add(local);
    }
  }
  return ports;
}

/** Connections by `application_name` and `state` (`idle`, `active`, `idle in transaction`...). */
export interface ConnectionCount {
  readonly total: number;
  /** The oldest open transaction's age at the reading, seconds (0: none open). */
  readonly oldestTransactionSeconds: number;
  readonly byState: Readonly<Record<string, number>>;
  readonly byApplication: Readonly<Record<string, number>>;
}

export interface ConnectionSample {
  /** Per replica label; `other` holds backends of no replica's process (none expected). */
  readonly replicas: Readonly<Record<string, ConnectionCount>>;
}

function add(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

/**
 * One reading of pg_stat_activity for the database of `url` (client backends only: psql's own
 * and PostgreSQL's autovacuum workers left out), each
 * backend given to the replica whose process holds its client port.
 */
export async function sampleConnections(
  url: string,
  pgPort: number,
  replicas: readonly { readonly label: string; readonly pid: number }[],
): Promise<ConnectionSample> {
  const ports = replicas.map((r) => ({ label: r.label, ports: clientPortsTo(r.pid, pgPort) }));
  const rows = await psql(
    url,
    `SELECT client_port, coalesce(application_name, ''), coalesce(state, ''),
            coalesce(extract(epoch FROM clock_timestamp() - xact_start), 0) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND backend_type = 'client backend'`,
  );
  const counts: Record<
    string,
    {
      total: number;
      oldestTransactionSeconds: number;
      byState: Record<string, number>;
      byApplication: Record<string, number>;
    }
  > = {};
  for (const r of replicas)
    counts[r.label] = { total: 0, oldestTransactionSeconds: 0, byState: {}, byApplication: {} };
  for (const [port, application = '', state = '', age = '0'] of rows) {
    const owner = ports.find((p) => p.ports.has(Number(port)))?.label ?? 'other';
    counts[owner] ??= { total: 0, oldestTransactionSeconds: 0, byState: {}, byApplication: {} };
    const count = counts[owner];
    count.total += 1;
    count.oldestTransactionSeconds = Math.max(
      count.oldestTransactionSeconds,
      Math.round(Number(age) * 1000) / 1000,
    );
    add(count.byState, state === '' ? '(none)' : state);
    add(count.byApplication, application === '' ? '(none)' : application);
  }
  return { replicas: counts };
}

const busy = (count: ConnectionCount): number => count.total - (count.byState.idle ?? 0);

/**
 * Per replica, the busiest of several samples: the one with the most connections not `idle`
 * (then the most in all), so that its figures add up as one reading did.
 */
export function peakConnections(samples: readonly ConnectionSample[]): ConnectionSample {
  const peak: Record<string, ConnectionCount> = {};
  for (const sample of samples) {
    for (const [label, count] of Object.entries(sample.replicas)) {
      const best = peak[label];
      if (
        best === undefined ||
        busy(count) > busy(best) ||
        (busy(count) === busy(best) && count.total > best.total)
      ) {
        peak[label] = count;
      }
    }
  }
  return { replicas: peak };
}

/** Samples every `everyMs` until stopped; answers them all. */
export function pollConnections(
  url: string,
  pgPort: number,
  replicas: readonly { readonly label: string; readonly pid: number }[],
  everyMs: number,
): { stop(): Promise<ConnectionSample[]> } {
  const samples: ConnectionSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      samples.push(await sampleConnections(url, pgPort, replicas));
      const wait = everyMs - (performance.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}
