// Rule changes from the API to the edge and back: check, store pending, push, wait for the ack,
// and settle the store by what the edge said. The promise of the API is that a change that
// fails leaves nothing behind, except when the edge does not answer in time (ack_timeout): then
// the change stays pending and the edge gets it with the full push when it reconnects.

import { findRuleConflicts, ruleSchema, validate } from '@sluice/config';
import type { SluiceError } from '@sluice/errors';
import type { RuleResult } from '@sluice/protocol';
import type { Logger } from 'pino';
import { type ControlPushOutcome, type ControlServer, toPushedRule } from './control/control-server.ts';
import { apiError } from './errors.ts';
import { listenKeysOf } from './store/listen-keys.ts';
import type { EdgeRecord, RuleRecord, UserRecord } from './store/records.ts';
import type { Store, StoreAggregates } from './store/store.ts';
import { checkTenantLimits, type TenantPolicy } from './tenant-policy.ts';

export interface RuleServiceOptions {
  readonly store: Store;
  readonly control: ControlServer;
  readonly logger: Logger;
  /** What a user's rules may hold on one edge (server config). */
  readonly tenants: TenantPolicy;
}

/**
 * Validates a rule table with the standalone config's schema, paths under `rule`, and answers
 * the table as it is stored: the keys as given, with `owner` set to the rule's owner (the edge
 * labels metrics and applies owner caps by it).
 */
export function validateRuleBody(raw: unknown, owner: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw apiError('bad_request', 'rule: expected a table (JSON object)');
  }
  const body = { ...(raw as Record<string, unknown>), owner };
  const result = validate(ruleSchema, body, ['rule']);
  if (!result.ok) {
    throw apiError('bad_request', result.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
  }
  return body;
}

/** Whether `user` may see and change `rule`: an admin any rule, a user its own. */
export function mayTouch(user: Pick<UserRecord, 'role' | 'name'>, rule: Pick<RuleRecord, 'owner'>): boolean {
  return user.role === 'admin' || rule.owner === user.name;
}

/**
 * How a clash names the other rule to `viewer`: by name and id if the viewer may see it, otherwise
 * only as another owner's, so a conflict tells a user nothing of rules that are not theirs.
 */
function describeTo(rule: RuleRecord, viewer: Pick<UserRecord, 'role' | 'name'>): string {
  return mayTouch(viewer, rule) ? describe(rule) : "another owner's rule";
}

function describe(rule: RuleRecord): string {
  return `rule ${JSON.stringify(rule.name)} (${rule.id})`;
}

export class RuleService {
  private readonly store: Store;
  private readonly control: ControlServer;
  private readonly logger: Logger;
  private readonly tenants: TenantPolicy;
  /** The edges whose rules all have listen keys (fillListenKeys). */
  private readonly keysFilled = new Set<string>();

  constructor(options: RuleServiceOptions) {
    this.store = options.store;
    this.control = options.control;
    this.logger = options.logger.child({ area: 'rules' });
    this.tenants = options.tenants;
  }

  /**
   * name_taken or port_in_use when `body` clashes with a live rule of the edge (but `exceptId`).
   * Runs in the transaction `tx` that then writes the rule, so the check still holds at the write.
   * Only the rules the store's indexes find on the same name or ports are compared, so the check
   * does not grow with the rules the edge holds.
   */
  private async checkConflicts(
    tx: StoreAggregates,
    edge: EdgeRecord,
    body: Record<string, unknown>,
    viewer: Pick<UserRecord, 'role' | 'name'>,
    exceptId?: string,
  ): Promise<void> {
    const candidates = await tx.rules.clashCandidates(edge.id, String(body.name), listenKeysOf(body));
    for (const other of candidates) {
      if (other.id === exceptId) continue;
      // The same checks as between the [[rules]] of one file, with the new rule second so
      // every issue lands on it.
      for (const issue of findRuleConflicts([other.body, body])) {
        if (issue.path[2] === 'name') {
          throw apiError(
            'name_taken',
            `rule.name: ${JSON.stringify(body.name)} is already used on edge ${edge.name} by ${describeTo(other, viewer)}`,
          );
        }
        throw apiError(
          'port_in_use',
          `rule.listen: ${String(body.listen)} overlaps ${String(other.body.listen)} of ${describeTo(other, viewer)} on edge ${edge.name}`,
        );
      }
    }
  }

  /**
   * Rules stored before the listen keys were get them here, under the edge lock, so the index
   * finds every rule; once per edge and process, as every rule written since has its keys.
   */
  private async fillListenKeys(edge: EdgeRecord): Promise<void> {
    if (this.keysFilled.has(edge.id)) return;
    await this.store.transaction(async (tx) => {
      await tx.edges.lock(edge.id);
      await tx.rules.fillListenKeys(edge.id);
    });
    this.keysFilled.add(edge.id);
  }

  private checkPushable(edge: EdgeRecord): void {
    if (edge.revokedAt !== null) throw apiError('edge_revoked', `edge ${edge.name} (${edge.id}) is revoked`);
  }

  private checkConnected(edge: EdgeRecord): void {
    if (!this.control.isConnected(edge.id)) {
      throw apiError(
        'client_not_connected',
        `edge ${edge.name} (${edge.id}) has no control session now; nothing was changed`,
      );
    }
  }

  /** Stores a new rule, pushes it and answers it active, or throws (and stores nothing). */
  async create(
    edge: EdgeRecord,
    owner: string,
    body: Record<string, unknown>,
    viewer: Pick<UserRecord, 'role' | 'name'>,
  ): Promise<RuleRecord> {
    this.checkPushable(edge);
    await this.fillListenKeys(edge);
    // The check and the insert are one transaction: a concurrent push cannot slip in between.
    const rule = await this.store.transaction(async (tx) => {
      // Other servers may push to this edge at the same time: the lock makes their checks and
      // writes take turns, so each check sees the rules written before it.
      await tx.edges.lock(edge.id);
      await checkTenantLimits(tx.rules, this.tenants, viewer, edge, body);
      await this.checkConflicts(tx, edge, body, viewer);
      this.checkConnected(edge);
      return tx.rules.insert({ edgeId: edge.id, owner, name: String(body.name), body });
    });
    const outcome = await this.control.push(edge.id, { upsert: [toPushedRule(rule)], remove: [] });
    if (outcome.kind === 'offline') await this.store.rules.delete(rule.id);
    const result = this.resultFor(rule, outcome);
    if (result.state === 'active') return (await this.store.rules.get(rule.id))!;
    // The edge runs nothing of it: a failed push leaves no rule behind.
    await this.store.rules.delete(rule.id);
    throw activationFailed(rule, result);
  }

  /** Replaces a rule's table at the next revision; on failure the previous table is restored. */
  async update(
    rule: RuleRecord,
    body: Record<string, unknown>,
    viewer: Pick<UserRecord, 'role' | 'name'>,
  ): Promise<RuleRecord> {
    const edge = (await this.store.edges.get(rule.edgeId))!;
    this.checkPushable(edge);
    await this.fillListenKeys(edge);
    const revised = await this.store.transaction(async (tx) => {
      await tx.edges.lock(edge.id);
      await checkTenantLimits(tx.rules, this.tenants, viewer, edge, body, rule.id);
      await this.checkConflicts(tx, edge, body, viewer, rule.id);
      this.checkConnected(edge);
      return tx.rules.revise(rule.id, { name: String(body.name), body });
    });
    const outcome = await this.control.push(edge.id, { upsert: [toPushedRule(revised)], remove: [] });
    if (outcome.kind === 'offline')
      await this.store.rules.revise(rule.id, { name: rule.name, body: rule.body });
    const result = this.resultFor(revised, outcome);
    if (result.state === 'active') return (await this.store.rules.get(rule.id))!;
    // Put the previous table back. Revisions only grow, so it goes out as the next one; the edge
    // may have dropped the old rule when the new one failed, and this brings it back.
    const restored = await this.store.rules.revise(rule.id, { name: rule.name, body: rule.body });
    void this.control.push(edge.id, { upsert: [toPushedRule(restored)], remove: [] }).then((again) => {
      if (again.kind !== 'acked')
        this.logger.warn({ ruleId: rule.id, outcome: again.kind }, 'restored rule not acked');
    });
    throw activationFailed(revised, result);
  }

  /**
   * Removes a rule. It becomes a tombstone (state removed) at once, which frees its name and
   * listen; the tombstone goes when the edge confirms, by an ack here or by the full push on
   * its next connect. An offline edge is not waited for.
   */
  async remove(rule: RuleRecord): Promise<RuleRecord> {
    const removed = (await this.store.rules.tombstone(rule.id))!;
    const outcome = await this.control.push(rule.edgeId, { upsert: [], remove: [rule.id] });
    if (outcome.kind === 'timeout' || outcome.kind === 'closed') {
      throw apiError(
        'ack_timeout',
        `edge ${rule.edgeName} did not ack the removal of ${describe(rule)} within ${this.control.ackTimeoutMs} ms; it is removed here and the edge drops it when it reconnects`,
      );
    }
    return removed;
  }

  /** The edge's result for the rule, or throws ack_timeout / client_not_connected. */
  private resultFor(rule: RuleRecord, outcome: ControlPushOutcome): RuleResult {
    switch (outcome.kind) {
      case 'acked':
        return (
          outcome.results.find(
            (result) => result.ruleId === rule.id && result.revision === rule.revision,
          ) ?? {
            ruleId: rule.id,
            revision: rule.revision,
            state: 'failed',
            code: 'no_result',
            message: `the edge acked push ${outcome.pushId} without a result for revision ${rule.revision}`,
          }
        );
      case 'offline':
        // The session went between the check and the push: the caller undoes its change.
        throw apiError(
          'client_not_connected',
          `edge ${rule.edgeName} has no control session now; nothing was changed`,
        );
      case 'timeout':
        throw apiError(
          'ack_timeout',
          `edge ${rule.edgeName} did not ack ${describe(rule)} revision ${rule.revision} within ${this.control.ackTimeoutMs} ms; it stays pending and is pushed again when the edge reconnects`,
        );
      case 'closed':
        throw apiError(
          'ack_timeout',
          `edge ${rule.edgeName} disconnected before acking ${describe(rule)} revision ${rule.revision}; it stays pending and is pushed again when the edge reconnects`,
        );
    }
  }
}

function activationFailed(rule: RuleRecord, result: RuleResult): SluiceError {
  const code = result.code ?? 'failed';
  return apiError(
    'activation_failed',
    `${code}: edge ${rule.edgeName} could not activate ${describe(rule)}: ${result.message ?? 'no reason given'}`,
  );
}
