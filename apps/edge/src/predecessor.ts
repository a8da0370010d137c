// Hand-over, the successor's side: this edge was started by a running one ($SLUICE_HANDOVER_FROM)
// over an IPC channel. It tells it `ready` once every rule is Active, then hears `handed` (the
// old edge has stopped accepting and drains), again with the old edge's counters while it
// drains. If the old edge goes away without a word, this edge has the host all the same.

import {
  HANDOVER_ENV,
  type HandedCounters,
  type PredecessorHanded,
  type SuccessorReady,
} from './handover-messages.ts';

export interface Predecessor {
  readonly pid: number;
  /** Says this edge is ready to take over. */
  ready(rules: number): void;
  /**
   * Calls `handed` for each `handed` message (`first` on the first), and once with
   * `{ first: true, counters: null }` if the channel closes before any came.
   */
  onHanded(handed: (counters: HandedCounters | null, first: boolean) => void): void;
}

/**
 * The edge that started this one, or null for an edge started by hand. The variable is taken out
 * of this process's environment so nothing this edge starts later inherits it.
 */
export function predecessorOf(env: NodeJS.ProcessEnv = process.env): Predecessor | null {
  const from = env[HANDOVER_ENV];
  delete env[HANDOVER_ENV];
  if (from === undefined) return null;
  const pid = Number(from);
  if (!Number.isInteger(pid) || pid < 1 || process.send === undefined) return null;
  return {
    pid,
    ready: (rules) => {
      process.send?.({ type: 'ready', rules } satisfies SuccessorReady);
    },
    onHanded: (handed) => {
      let first = true;
      const take = (counters: HandedCounters | null): void => {
        handed(counters, first);
        first = false;
      };
      process.on('message', (message: PredecessorHanded) => {
        if (message?.type === 'handed') take(message.counters);
      });
      process.once('disconnect', () => {
        if (first) take(null);
      });
      // The channel must not keep this edge's process alive on its own.
      process.channel?.unref();
    },
  };
}
