// Listeners owned by another process than the edge: a node process holding a port (optionally
// with SO_REUSEPORT, as a second edge would), and a python3 listener that never accepts, whose
// full accept queue makes connects time out.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withTimeout } from '@sluice/test-kit';
import { killAtCleanup } from './cleanup.ts';
import { connectTcp } from './tcp-client.ts';

export interface ForeignListener {
  readonly port: number;
  readonly child: ChildProcess;
}

/** Answers every connection with this line, then closes it. */
export const FOREIGN_GREETING = 'foreign-holder\n';

function spawnListener(command: string, args: readonly string[], what: string): Promise<ForeignListener> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  killAtCleanup(child);
  const lines = createInterface({ input: child.stdout! });
  const port = new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve(Number(line)));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before listening: ${stderr}`)));
  });
  return withTimeout(port, 10_000, what).then((p) => ({ port: p, child }));
}

const HOLDER_SCRIPT = `
const net = require('node:net');
const [port, reusePort] = [Number(process.argv[1]), process.argv[2] === 'reuse'];
const server = net.createServer((socket) => socket.end(${JSON.stringify(FOREIGN_GREETING)}));
server.listen({ host: '127.0.0.1', port, reusePort, exclusive: !reusePort }, () => {
  console.log(server.address().port);
});
`;

/** Another process listening on 127.0.0.1:port, with or without SO_REUSEPORT. */
export function holdPort(port: number, reusePort: boolean): Promise<ForeignListener> {
  return spawnListener(
    process.execPath,
    ['-e', HOLDER_SCRIPT, String(port), reusePort ? 'reuse' : 'plain'],
    `a foreign holder of port ${port}`,
  );
}

const NEVER_ACCEPT_SCRIPT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

/** A python3 listener with backlog 0 that never calls accept(). */
export function neverAcceptingListener(): Promise<ForeignListener> {
  return spawnListener('python3', ['-c', NEVER_ACCEPT_SCRIPT], 'a python3 listener that never accepts');
}

/**
 * Connects to a listener that never accepts until its accept queue is full (a connect that does
 * not complete within `probeMs`), so the next connect to it can only time out. Returns how
 * many connections the queue took.
 */
export async function fillAcceptQueue(port: number, probeMs = 500): Promise<number> {
  for (let queued = 0; queued < 16; queued++) {
    try {
      await connectTcp(port, { timeoutMs: probeMs });
    } catch (err) {
      if ((err as Error).message.includes('timed out')) return queued;
      throw err;
    }
  }
  throw new Error(`the accept queue of port ${port} took 16 connections and still was not full`);
}
