// Where an edge's rules come from: a TOML file (file-rule-source.ts, the standalone edge) or the
// server over the control session (server-rule-source.ts, the managed edge). The EdgeRuntime owns
// everything else (shards, metrics, signals, drain), so the two modes cannot drift apart.

import type { ShardSupervisor } from '@sluice/core';
import type { HandedCounters } from './handover-messages.ts';
import type { Logger } from './logger.ts';

/** `standalone` (rules from a file) or `managed` (rules from the server): the `mode` log field. */
export type EdgeMode = 'standalone' | 'managed';

/** What the runtime lends a source once the shards run. */
export interface RuleSourceContext {
  readonly supervisor: ShardSupervisor;
  readonly log: Logger;
  /** Drains and stops the edge; an edge that owns its process then exits with `exitCode`. */
  shutdown(exitCode: number): void;
  /**
   * This edge is a successor binding beside a running edge (predecessor.ts): what talks to the
   * outside as the edge (the control session, the state file) waits for carry().
   */
  readonly successor: boolean;
}

export interface RuleSource {
  readonly mode: EdgeMode;
  /**
   * Starts feeding rules to `context.supervisor`. Resolves with the source's fields for the
   * `edge ready` log line, once the first rule set is applied (file) or the session is under
   * way (server: the data plane never waits on the server).
   */
  start(context: RuleSourceContext): Promise<Readonly<Record<string, unknown>>>;
  /** SIGHUP: the file source reads its file again; the server source says it ignores it. */
  reload(): Promise<void>;
  /** The edge is draining: no rule changes from here on. */
  stop(): void;
  /**
   * Hand-over, the old edge: stops talking to the server. Answers a reader of the counters the
   * successor carries on (called now and while this edge drains), or null: nothing to carry.
   */
  handOff(): (() => HandedCounters) | null;
  /**
   * Hand-over, the successor: the old edge's counters (null: none). The first call starts what
   * start() held back for a successor.
   */
  carry(counters: HandedCounters | null, first: boolean): void;
}
