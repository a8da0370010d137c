// The shapes of the server's answers (docs/server-api.md), as far as sluicectl reads them to
// print tables. Objects are not strict: a newer server may add keys. `--format json` prints the
// body as received, so these only guard the human output.

import { z } from 'zod';

/** Ids are opaque: a string or a number, printed as they come. */
const id = z.union([z.string(), z.number()]);
/** A time as the API writes it: an ISO 8601 string (epoch milliseconds are accepted too). */
const timestamp = z.union([z.string(), z.number()]);

export const apiErrorBodySchema = z.object({
  error: z.object({ code: z.string().min(1), message: z.string() }),
});

export const edgeRefSchema = z.object({ id, name: z.string() });

export const edgeSchema = z.object({
  id,
  name: z.string(),
  connected: z.boolean(),
  revoked: z.boolean(),
  // The edge's software or protocol version; null until it has connected.
  version: z.union([z.string(), z.number()]).nullish(),
  lastSeenAt: timestamp.nullish(),
  enrolledAt: timestamp.nullish(),
  rules: z.number(),
});
export type Edge = z.infer<typeof edgeSchema>;

export const edgeListSchema = z.object({ edges: z.array(edgeSchema) });

export const enrollmentSchema = z.object({
  edge: edgeRefSchema,
  code: z.string(),
  uri: z.string(),
  command: z.string(),
  expiresAt: timestamp,
});
export type Enrollment = z.infer<typeof enrollmentSchema>;

export const ruleSchema = z.object({
  id,
  edge: edgeRefSchema,
  owner: z.string(),
  name: z.string(),
  revision: z.number(),
  state: z.string(),
  reason: z.string().nullish(),
  message: z.string().nullish(),
  rule: z.record(z.string(), z.unknown()),
  createdAt: timestamp.nullish(),
  updatedAt: timestamp.nullish(),
});
export type Rule = z.infer<typeof ruleSchema>;

export const ruleListSchema = z.object({ rules: z.array(ruleSchema) });

export const ruleStatsSchema = z.object({
  rule: id,
  /** When the edge last reported; null until a report has mentioned the rule (all zeros then). */
  at: timestamp.nullable(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  connectionsTotal: z.number(),
  activeConnections: z.number(),
  rejected: z.number(),
  connectErrors: z.number(),
  bytesInPerSec: z.number(),
  bytesOutPerSec: z.number(),
});
export type RuleStats = z.infer<typeof ruleStatsSchema>;
