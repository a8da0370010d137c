// A helper process spoken to over IPC (the idle-memory holder and client, the soak's client):
// requests go out, the next reply of the wanted type comes back, with a deadline.

import { BENCH_ERRORS } from './errors.ts';
import { ManagedProcess } from './managed-process.ts';

export class IpcPeer<Request, Reply extends { readonly type: string }> {
  readonly process: ManagedProcess;
  readonly #isReply: (message: unknown) => message is Reply;

  constructor(
    name: string,
    nodeBin: string,
    script: string,
    args: readonly string[],
    isReply: (message: unknown) => message is Reply,
  ) {
    this.process = new ManagedProcess({ name, command: nodeBin, args: [script, ...args], ipc: true });
    this.#isReply = isReply;
  }

  /** Sends a request that has no reply. */
  send(request: Request): void {
    this.process.child.send(request as object);
  }

  /** Waits for the next message of `type` (sending `request` first when given). */
  async next<T extends Reply['type']>(
    type: T,
    timeoutMs: number,
    request?: Request,
  ): Promise<Extract<Reply, { type: T }>> {
    const child = this.process.child;
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (!this.#isReply(message) || message.type !== type) return;
        done();
        resolve(message as Extract<Reply, { type: T }>);
      };
      const onExit = (): void => {
        done();
        reject(
          new Error(`${this.process.name} exited while waiting for "${type}"\n${this.process.describe()}`),
        );
      };
      const timer = setTimeout(() => {
        done();
        reject(BENCH_ERRORS.error('timeout', { ms: timeoutMs, what: `"${type}" from ${this.process.name}` }));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (request !== undefined) child.send(request as object);
    });
  }

  async stop(): Promise<void> {
    if (this.process.child.connected) this.process.child.disconnect();
    await this.process.stop('SIGTERM', 3000);
  }
}
