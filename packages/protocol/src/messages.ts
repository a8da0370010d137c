// Every message of the control session, as zod schemas: what the edge sends the server and
// what the server sends the edge. Both sides validate every frame they read; a frame that does
// not validate ends the session with `protocol_error` (see errors.ts).
//
// A session goes:
//   edge  -> enroll {code}                 (an enrollment connection: answered, then closed)
//   edge  -> hello {edgeId, secret, ruleCount}  server -> welcome {servers?} | refused
//   server -> push {pushId, full?, upsert, remove, owners?, quotas?}   edge -> ack {pushId, results}
//   edge  -> stats {bootId, seq, rules, owners?}  (cumulative counters every few seconds)
//   either -> ping / pong                   (a silent peer is a dead peer)

import { z } from 'zod';
import { controlAddressListSchema } from './control-address.ts';

/** Bumped when a message changes incompatibly; hello carries it and the server refuses others. */
export const PROTOCOL_VERSION = 2;

// Strings a peer sends before it has authenticated end up in the server's logs: none may carry
// a control character that could forge a line or colour a terminal.
const VISIBLE = /^[\x21-\x7e]+$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const visible = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(VISIBLE, 'must be visible ASCII characters (no spaces or control characters)');

const id = visible(64);

/**
 * A rule as the server stores it and pushes it: its id, a revision that grows with each change,
 * the owner, and the rule table itself in the standalone config's keys (validated by the edge
 * with the same schema as a TOML file, so a rule means the same from a file and from a push).
 */
export const pushedRuleSchema = z
  .object({
    id,
    revision: z.int().min(1),
    owner: z.string().min(1).max(64),
    rule: z.record(z.string(), z.unknown()),
  })
  .strict();
export type PushedRule = z.infer<typeof pushedRuleSchema>;

/** What a rule became on the edge. */
export const ruleResultSchema = z
  .object({
    ruleId: id,
    revision: z.int().min(0),
    state: z.enum(['active', 'failed', 'removed']),
    /** failed: the reason code (port_in_use, rule_invalid, ...) and its message. */
    code: z.string().optional(),
    message: z.string().optional(),
  })
  .strict();
export type RuleResult = z.infer<typeof ruleResultSchema>;

/** Cumulative counters of one rule since the edge process started (bootId). */
export const ruleStatsSchema = z
  .object({
    ruleId: id,
    bytesIn: z.number().nonnegative(),
    bytesOut: z.number().nonnegative(),
    connectionsTotal: z.number().nonnegative(),
    activeConnections: z.number().nonnegative(),
    rejected: z.number().nonnegative(),
    /** `rejected` by reason (sluice_rule_rejected_total's labels); reasons never seen left out. */
    rejectedByReason: z.record(z.string().max(64), z.number().nonnegative()).optional(),
    connectErrors: z.number().nonnegative(),
  })
  .strict();
export type RuleStats = z.infer<typeof ruleStatsSchema>;

const limitsTable = z.record(z.string(), z.unknown());

const ownerName = z.string().min(1).max(64);

/**
 * Bytes (in + out) an owner's rules moved on this edge since bootId began: cumulative, as the
 * rules' counters, so the server folds it by delta and a lost report loses nothing.
 */
export const ownerUsageSchema = z.object({ owner: ownerName, bytes: z.number().nonnegative() }).strict();
export type OwnerUsage = z.infer<typeof ownerUsageSchema>;

/**
 * An owner's monthly quota on the edge, as a point on the edge's own counter: the owner stops
 * when its usage this boot (ownerUsageSchema's `bytes`) reaches `stopAt`. Given in the edge's
 * terms, it stays exact however far behind the server's view of the usage is.
 */
export const quotaBudgetSchema = z.object({ stopAt: z.number().nonnegative() }).strict();
export type QuotaBudget = z.infer<typeof quotaBudgetSchema>;

export const edgeMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('enroll'),
      version: z.int(),
      code: visible(128),
      /** The name the edge suggests (its hostname); the operator's name at enrollment wins. */
      hostname: z.string().max(253).regex(PRINTABLE, 'must be printable ASCII (no control characters)'),
    })
    .strict(),
  z
    .object({
      type: z.literal('hello'),
      version: z.int(),
      edgeId: id,
      secret: visible(256),
      /** A fresh id per edge process: the server re-baselines cumulative stats when it changes. */
      bootId: id,
      capabilities: z.array(visible(64)).max(64),
      /**
       * How many rules the edge runs now, for the server's log. Not the rules themselves: a hello
       * comes before authentication, so it must fit in a few KiB (PRE_AUTH_MAX_FRAME_BYTES); the
       * server's full push after welcome is what reconciles.
       */
      ruleCount: z.int().min(0).max(1_000_000),
    })
    .strict(),
  z.object({ type: z.literal('ack'), pushId: z.int().min(1), results: z.array(ruleResultSchema) }).strict(),
  z
    .object({
      type: z.literal('stats'),
      bootId: id,
      seq: z.int().min(0),
      rules: z.array(ruleStatsSchema),
      owners: z.array(ownerUsageSchema).max(100_000).optional(),
    })
    .strict(),
  z.object({ type: z.literal('ping') }).strict(),
  z.object({ type: z.literal('pong') }).strict(),
]);
export type EdgeMessage = z.infer<typeof edgeMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('enrolled'), edgeId: id, name: z.string(), secret: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('welcome'),
      edgeId: id,
      name: z.string(),
      statsIntervalMs: z.int().min(100),
      /**
       * Every replica's control address now, in the order to try them: the edge reconnects to
       * these from then on. Absent: the edge keeps the list it has (its bundle's).
       */
      servers: controlAddressListSchema.optional(),
    })
    .strict(),
  /** enroll or hello refused: the code says why (code_used, code_expired, edge_revoked, ...). */
  z.object({ type: z.literal('refused'), code: z.string(), message: z.string() }).strict(),
  z
    .object({
      type: z.literal('push'),
      pushId: z.int().min(1),
      /** true: `upsert` is the whole rule set; the edge removes every rule not in it. */
      full: z.boolean(),
      upsert: z.array(pushedRuleSchema),
      remove: z.array(id),
      /** Per-owner caps on this edge (`[owners.NAME] limits`); absent: unchanged. */
      owners: z.record(z.string(), limitsTable).optional(),
      /** Monthly quotas on this edge, per owner; the owners not in it have none. Absent: unchanged. */
      quotas: z.record(ownerName, quotaBudgetSchema).optional(),
    })
    .strict(),
  z.object({ type: z.literal('ping') }).strict(),
  z.object({ type: z.literal('pong') }).strict(),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
