// A service manager's notification socket as systemd binds it: an AF_UNIX datagram socket
// ($NOTIFY_SOCKET), a filesystem path or an abstract name ('@name'). Node cannot bind one, so a
// small python3 process does, and writes each datagram it receives as one JSON line.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withTimeout } from './poll.ts';
import { requireProgram } from './require-program.ts';

const RECEIVER = `
import json, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + path[1:] if path.startswith('@') else path)
print(json.dumps({'bound': path}), flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps({'datagram': data.decode()}), flush=True)
`;

export class NotifySocket {
  /** The value for NOTIFY_SOCKET. */
  readonly path: string;
  readonly datagrams: string[] = [];
  private readonly child: ChildProcess;
  private wake: (() => void) | null = null;

  private constructor(path: string, child: ChildProcess) {
    this.path = path;
    this.child = child;
  }

  /** Binds `path` ('@name' for an abstract socket); stop() ends the receiver. */
  static async bind(path: string): Promise<NotifySocket> {
    const child = spawn(requireProgram('python3'), ['-c', RECEIVER, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const socket = new NotifySocket(path, child);
    const lines = createInterface({ input: child.stdout! });
    let bound: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      bound = resolve;
    });
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { bound?: string; datagram?: string };
      if (message.bound !== undefined) bound();
      if (message.datagram !== undefined) {
        socket.datagrams.push(message.datagram);
        socket.wake?.();
      }
    });
    await withTimeout(ready, 10_000, `python3 to bind the notification socket ${path}`);
    return socket;
  }

  /** Resolves with the first datagram (from index `from` on) that `match` accepts. */
  async waitFor(match: (datagram: string) => boolean, timeoutMs = 20_000, from = 0): Promise<string> {
    const found = async (): Promise<string> => {
      for (;;) {
        const hit = this.datagrams.slice(from).find(match);
        if (hit !== undefined) return hit;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    };
    return withTimeout(
      found(),
      timeoutMs,
      `a datagram on ${this.path}; got ${JSON.stringify(this.datagrams)}`,
    );
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
