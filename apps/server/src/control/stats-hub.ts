// Fans each rule's fresh stats out to whoever watches (the API's SSE stream). In-process only:
// one server holds its edges' sessions, so it alone sees their reports.

import { EventEmitter } from 'node:events';
import type { RuleStatsRecord } from '../store/records.ts';

export type StatsListener = (stats: RuleStatsRecord) => void;

export class StatsHub {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every open SSE stream is a listener; there is no leak to warn about at 11 of them.
    this.emitter.setMaxListeners(0);
  }

  publish(stats: RuleStatsRecord): void {
    this.emitter.emit('stats', stats);
  }

  /** Answers the function that stops listening. */
  subscribe(listener: StatsListener): () => void {
    this.emitter.on('stats', listener);
    return () => this.emitter.off('stats', listener);
  }

  get listeners(): number {
    return this.emitter.listenerCount('stats');
  }
}
