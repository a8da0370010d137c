// What replicas tell each other on the bus (replica-bus.ts). Every message names its sender;
// calls and replies name their receiver too. A call asks the replica that holds an edge's session
// to do what only it can (push, disconnect); it carries rule ids, not rules, because NOTIFY
// payloads are small, and the holder reads the rules from the store that both share.

import { ruleResultSchema } from '@sluice/protocol';
import { z } from 'zod';

const id = z.string().min(1).max(128);

export const routedOpSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('push'),
      edgeId: id,
      /** Rules to send as stored now. */
      upsert: z.array(id),
      remove: z.array(id),
      /** Send the owner caps as stored now. */
      owners: z.boolean(),
      /** Send the quota budgets as stored now. */
      quotas: z.boolean(),
    })
    .strict(),
  z.object({ kind: z.literal('disconnect'), edgeId: id, reason: z.string().max(200) }).strict(),
]);
export type RoutedOp = z.infer<typeof routedOpSchema>;

export const routedOutcomeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('acked'), pushId: z.int(), results: z.array(ruleResultSchema) }).strict(),
  z.object({ kind: z.literal('timeout'), pushId: z.int() }).strict(),
  z.object({ kind: z.literal('closed'), pushId: z.int() }).strict(),
  z.object({ kind: z.literal('offline') }).strict(),
]);
export type RoutedOutcome = z.infer<typeof routedOutcomeSchema>;

const statsRecordSchema = z
  .object({
    ruleId: id,
    at: z.number(),
    bytesIn: z.number(),
    bytesOut: z.number(),
    connectionsTotal: z.number(),
    activeConnections: z.number(),
    rejected: z.number(),
    rejectedByReason: z.record(z.string(), z.number()),
    connectErrors: z.number(),
    bytesInPerSec: z.number(),
    bytesOutPerSec: z.number(),
  })
  .strict();

export const replicaMessageSchema = z.discriminatedUnion('type', [
  /** `from` joined or left: the others read the membership now instead of at their next heartbeat. */
  z.object({ type: z.literal('membership'), from: id }).strict(),
  /** `from` made its session the edge's one session. */
  z.object({ type: z.literal('claimed'), from: id, edgeId: id, sessionId: id }).strict(),
  z.object({ type: z.literal('call'), from: id, to: id, callId: id, op: routedOpSchema }).strict(),
  z.object({ type: z.literal('reply'), from: id, to: id, callId: id, outcome: routedOutcomeSchema }).strict(),
  /** Fresh stats of rules whose edge `from` holds, for the live streams of the other replicas. */
  z.object({ type: z.literal('stats'), from: id, records: z.array(statsRecordSchema) }).strict(),
]);
export type ReplicaMessage = z.infer<typeof replicaMessageSchema>;

/** The message in a payload, or null when it is not one. */
export function parseReplicaMessage(payload: string): ReplicaMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return null;
  }
  const result = replicaMessageSchema.safeParse(raw);
  return result.success ? result.data : null;
}
