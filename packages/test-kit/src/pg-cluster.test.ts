import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startPgCluster } from './pg-cluster.ts';

const run = promisify(execFile);

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('a throwaway PostgreSQL cluster', () => {
  it('starts on a loopback port, takes SQL, and is gone after stop', async () => {
    const cluster = await startPgCluster();
    try {
      const sql = (query: string) => run('psql', [cluster.url, '-XAtqc', query]);
      await sql('CREATE TABLE t (n int); INSERT INTO t VALUES (41), (1)');
      expect((await sql('SELECT sum(n) FROM t')).stdout.trim()).toBe('42');
      expect((await sql('SHOW listen_addresses')).stdout.trim()).toBe('127.0.0.1');
    } finally {
      await cluster.stop();
    }
    expect(existsSync(cluster.dir)).toBe(false);
    expect(await refused(cluster.port)).toBe(true);
  }, 60_000);
});
