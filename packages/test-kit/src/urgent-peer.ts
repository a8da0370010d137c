// A TCP client that can send urgent data (MSG_OOB), which Node's net module cannot: a python3
// process that connects to a port and does what it is told, one command per line on its stdin,
// answering each with a line once the kernel has taken it. The bytes are real socket writes on
// loopback; only the driving is indirect.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { killOnExit } from './log-process.ts';
import { withTimeout } from './poll.ts';
import { requireProgram } from './require-program.ts';

const PEER_SCRIPT = `
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print('connected', flush=True)
for line in sys.stdin:
    cmd, _, arg = line.strip().partition(' ')
    answer = ''
    if cmd == 'send':
        s.sendall(bytes.fromhex(arg))
    elif cmd == 'urgent':
        s.send(bytes.fromhex(arg), socket.MSG_OOB)
    elif cmd == 'shutdown':
        s.shutdown(socket.SHUT_WR)
    elif cmd == 'drain':
        total = 0
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            total += len(chunk)
        answer = ' ' + str(total)
    elif cmd == 'close':
        s.close()
    print('ok' + answer, flush=True)
`;

export class UrgentPeer {
  readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => this.pending.shift()?.resolve(line));
    child.once('exit', (code) => {
      for (const waiter of this.pending.splice(0)) {
        waiter.reject(new Error(`the urgent peer exited (${code}): ${this.stderr}`));
      }
    });
  }

  /** Connects to host:port; resolves once the connection is established. */
  static async connect(port: number, host = '127.0.0.1'): Promise<UrgentPeer> {
    const python = requireProgram('python3');
    const child = spawn(python, ['-c', PEER_SCRIPT, host, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    killOnExit(child);
    const peer = new UrgentPeer(child);
    await peer.answer('connect');
    return peer;
  }

  /** Ordinary bytes. */
  async send(bytes: Buffer): Promise<void> {
    await this.command(`send ${bytes.toString('hex')}`);
  }

  /** One urgent byte (send with MSG_OOB): the kernel marks it as the urgent pointer. */
  async urgent(byte: number): Promise<void> {
    await this.command(`urgent ${Buffer.of(byte).toString('hex')}`);
  }

  /** FIN: shutdown(SHUT_WR). */
  async shutdown(): Promise<void> {
    await this.command('shutdown');
  }

  /** Reads until EOF; resolves with the byte count (rejects on a reset: python exits). */
  async drain(timeoutMs = 10_000): Promise<number> {
    const answer = await withTimeout(this.command('drain'), timeoutMs, 'the peer to read to EOF');
    return Number(answer.split(' ')[1]);
  }

  /** Closes the socket and ends the process. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    this.child.kill('SIGKILL');
    await exited;
  }

  private command(line: string): Promise<string> {
    const answered = this.answer(line.split(' ')[0]!);
    this.child.stdin!.write(`${line}\n`);
    return answered;
  }

  private answer(what: string): Promise<string> {
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        this.pending.push({ resolve, reject });
      }),
      10_000,
      `the urgent peer to ${what}`,
    );
  }
}
