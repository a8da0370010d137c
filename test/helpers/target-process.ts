// An echo target in a process of its own. Tests that hold thousands of connections through the
// edge use it so that the clients (in the test process) and the target's sockets do not have to
// fit under one process's descriptor limit together.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { withTimeout } from '@sluice/test-kit';
import { killAtCleanup } from './cleanup.ts';

export interface TargetProcess {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The connections the target holds open now. */
  openConnections(timeoutMs?: number): Promise<number>;
}

// Echoes every byte, closes when the peer ends; answers "count" on stdin with "open N".
const ECHO_SCRIPT = `
const net = require('node:net');
const readline = require('node:readline');
const open = new Set();
const server = net.createServer({ noDelay: true }, (socket) => {
  open.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => open.delete(socket));
  socket.pipe(socket);
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => console.log(server.address().port));
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'count') console.log('open ' + open.size);
});
`;

export async function startEchoTargetProcess(): Promise<TargetProcess> {
  const child = spawn(process.execPath, ['-e', ECHO_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  killAtCleanup(child);
  const lines: Interface = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiters: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  lines.on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(line);
    else queue.push(line);
  });
  child.once('exit', (code, signal) => {
    const err = new Error(`the echo target process exited (code ${code}, signal ${signal}): ${stderr}`);
    for (const waiter of waiters.splice(0)) waiter.reject(err);
  });
  const nextLine = (timeoutMs: number, what: string): Promise<string> => {
    const queued = queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (child.exitCode !== null || child.signalCode !== null) {
      return Promise.reject(new Error(`the echo target process has exited: ${stderr}`));
    }
    const waiter = { resolve: (_line: string) => {}, reject: (_err: Error) => {} };
    const line = new Promise<string>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    waiters.push(waiter);
    return withTimeout(line, timeoutMs, what).catch((err: Error) => {
      // The caller fails on this error; the waiter must not take a later line.
      const index = waiters.indexOf(waiter);
      if (index >= 0) waiters.splice(index, 1);
      throw err;
    });
  };
  const port = Number(await nextLine(10_000, 'the echo target process to listen'));
  return {
    port,
    pid: child.pid!,
    child,
    async openConnections(timeoutMs = 5_000) {
      child.stdin!.write('count\n');
      const line = await nextLine(timeoutMs, 'the echo target process to count its connections');
      const match = /^open (\d+)$/.exec(line);
      if (match === null) throw new Error(`unexpected answer from the echo target process: ${line}`);
      return Number(match[1]);
    },
  };
}
