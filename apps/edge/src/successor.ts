// Hand-over, the running edge's side: SIGUSR2 starts a successor with the same arguments, by
// $SLUICE_LAUNCHER when set (so that after an upgrade flipped the `current` link the successor
// is the new version), else by this Node with its flags and script. Its log goes to the same
// stdout and stderr. It binds beside this edge and says when it is ready; until then this edge
// serves as if nothing happened, and a successor that exits or stays silent is given up.

import { type ChildProcess, spawn } from 'node:child_process';
import {
  HANDOVER_ENV,
  LAUNCHER_ENV,
  type PredecessorHanded,
  type SuccessorReady,
} from './handover-messages.ts';

/** How long a successor may take to bind every rule before the hand-over is given up. */
export const SUCCESSOR_READY_TIMEOUT_MS = 60_000;

export interface SuccessorCommand {
  readonly program: string;
  readonly args: readonly string[];
}

/** The command that starts this edge again with the same arguments. */
export function successorCommand(env: NodeJS.ProcessEnv = process.env): SuccessorCommand {
  const launcher = env[LAUNCHER_ENV];
  if (launcher !== undefined && launcher !== '') return { program: launcher, args: process.argv.slice(2) };
  return { program: process.execPath, args: [...process.execArgv, ...process.argv.slice(1)] };
}

export type ReadyOutcome =
  | { readonly ready: true; readonly rules: number }
  | { readonly ready: false; readonly reason: string };

export class Successor {
  readonly command: SuccessorCommand;
  private readonly child: ChildProcess;
  private readonly outcome: Promise<ReadyOutcome>;

  constructor(command: SuccessorCommand = successorCommand()) {
    this.command = command;
    this.child = spawn(command.program, command.args, {
      env: { ...process.env, [HANDOVER_ENV]: String(process.pid) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.outcome = new Promise<ReadyOutcome>((settle) => {
      this.child.once('error', (err) =>
        settle({ ready: false, reason: `could not start ${command.program}: ${err.message}` }),
      );
      this.child.once('exit', (code, signal) =>
        settle({
          ready: false,
          reason: `the successor exited (${signal === null ? `code ${code}` : `signal ${signal}`}) before it was ready`,
        }),
      );
      this.child.on('message', (message: SuccessorReady) => {
        if (message?.type === 'ready') settle({ ready: true, rules: message.rules });
      });
    });
  }

  /** The successor's pid (undefined when it could not be started at all). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Ready, or why not: it exited, or said nothing within `timeoutMs` (it is then stopped). */
  async ready(timeoutMs: number = SUCCESSOR_READY_TIMEOUT_MS): Promise<ReadyOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ReadyOutcome>((settle) => {
      timer = setTimeout(
        () => settle({ ready: false, reason: `the successor was not ready within ${timeoutMs / 1000} s` }),
        timeoutMs,
      );
    });
    const outcome = await Promise.race([this.outcome, late]);
    clearTimeout(timer);
    if (!outcome.ready) this.abandon();
    return outcome;
  }

  /** Whether it still runs and listens on the channel. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.connected;
  }

  /** Tells the successor it has the edge (and, for a managed one, the counters it carries on). */
  send(message: PredecessorHanded): void {
    if (this.child.connected) this.child.send(message);
  }

  /** A successor given up: it is stopped, so it does not go on beside this edge. */
  abandon(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
