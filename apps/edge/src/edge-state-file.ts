// The managed edge's counters on disk: each rule's cumulative stats and each owner's usage, with
// the boot id they count from, rewritten at least once a second (mode 0600, a temporary file
// renamed over the last one). An edge that was killed starts again from this file under the same
// boot id, so the server folds its counters on as if it had never stopped: a kill loses at most
// the last second of counting, and the owners' quotas stay exact.

import { z } from 'zod';
import { readPrivateJson, writePrivateFile } from './private-file.ts';

/** How often the state is written. */
export const EDGE_STATE_INTERVAL_MS = 1_000;

const count = z.number().nonnegative();

const edgeStateSchema = z.object({
  version: z.literal(1),
  edgeId: z.string(),
  bootId: z.string().min(1).max(64),
  /** Per rule id: its cumulative counters at the last write. */
  rules: z.record(
    z.string(),
    z.object({
      bytesIn: count,
      bytesOut: count,
      connectionsTotal: count,
      rejected: count,
      rejectedByReason: z.record(z.string(), count).optional(),
      connectErrors: count,
    }),
  ),
  usage: z.object({ owners: z.record(z.string(), count), rules: z.record(z.string(), count) }),
});
export type EdgeState = z.infer<typeof edgeStateSchema>;

/**
 * The state this edge left, or why it cannot be used: none (first start), unreadable or not
 * this edge's. Only a state of the same edge id continues its boot.
 */
export function readEdgeState(
  file: string,
  edgeId: string,
): Promise<{ state: EdgeState } | { state: null; reason: string | null }> {
  return readPrivateJson(file, edgeStateSchema, edgeId, 'state');
}

/** Replaces the state file with `state`; readers see the old file or the new, never a part. */
export function writeEdgeState(file: string, state: EdgeState): Promise<void> {
  return writePrivateFile(file, JSON.stringify(state));
}
