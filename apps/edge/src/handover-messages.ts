// What a running edge and the successor it started (SIGUSR2) say to each other over the IPC
// channel of the spawn. The successor says `ready` once every rule is Active beside the old
// edge's; the old edge then answers `handed` (it stops accepting and drains) and sends `handed`
// again with its growing counters until its drain is over, so a managed successor reports one
// boot whose counters never go back (handed-counters: rule-stats-collector.ts).

import type { OwnerUsageState } from './owner-usage.ts';
import type { Totals } from './rule-stats-collector.ts';

/** Set in the successor's environment: the pid of the edge that started it. */
export const HANDOVER_ENV = 'SLUICE_HANDOVER_FROM';
/** The program a successor is started with (the release's bin/sluice-edge, by its `current` path). */
export const LAUNCHER_ENV = 'SLUICE_LAUNCHER';

/** A managed edge's counters as its successor carries them on: the boot they count under, and their values. */
export interface HandedCounters {
  readonly bootId: string;
  readonly rules: Readonly<Record<string, Totals>>;
  readonly usage: OwnerUsageState;
}

export interface SuccessorReady {
  readonly type: 'ready';
  readonly rules: number;
}

export interface PredecessorHanded {
  readonly type: 'handed';
  /** null: a standalone edge, nothing to carry on. */
  readonly counters: HandedCounters | null;
}
