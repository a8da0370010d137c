// The pushed rule set: the rules a managed edge runs, keyed by the server's rule ids, and how a
// push becomes a supervisor.apply and then one result per rule for the ack:
//
// 1. every upserted rule table is validated with the config's ruleSchema (the pushed owner wins
//    over any `owner` key in the table); an invalid one is `failed rule_invalid`;
// 2. the next set is the upserts (full push) or the current set with upserts and removals;
// 3. rules of the set that clash with one another are failed here, before any bind: a second rule
//    of the same name (`name_taken`) or a listen overlapping another rule's of the same protocol
//    (`port_in_use`); rules the edge already runs keep their place against newcomers;
// 4. supervisor.apply(specs, owners) binds; each rule is `active` or `failed` with the data
//    plane's reason (port_in_use, permission_denied, ...); rules left out are `removed`.
//
// The edge keeps only rules that run. A new revision that fails (invalid, clashing, or not
// bindable) does not take its rule down: the revision that ran before stays (re-applied when the
// failed attempt had already retired it), as the server keeps the old revision of a rule whose
// change failed. A new rule that fails is dropped, as the server drops it; the server pushes it
// again if it wants it retried (e.g. in the full push of the next session).
// Pushes are applied one at a time, in the order they came.

import {
  formatListen,
  limitsSchema,
  listensOverlap,
  type OwnerSpec,
  type RuleSpec,
  ruleSchema,
  validate,
} from '@sluice/config';
import type { ApplyResult, RuleSnapshot, ShardSupervisor } from '@sluice/core';
import type { RuleResult } from '@sluice/protocol';
import type { PushMessage } from './control-client.ts';

/** One pushed rule, validated: the server's id and revision, and the RuleSpec it runs as. */
interface PushedRuleSpec {
  readonly id: string;
  readonly revision: number;
  readonly spec: RuleSpec;
}

/** Why a pushed rule is not running: what its failed RuleResult carries. */
type RuleFailure = { readonly code: string; readonly message: string };

export interface PushOutcome {
  /** One per rule the push named (and, for a full push, per rule it removed by leaving it out). */
  readonly results: RuleResult[];
  readonly apply: ApplyResult | null;
}

export class PushedRuleSet {
  private readonly supervisor: ShardSupervisor;
  /** What runs (or tried to and failed to bind), in the order the rules were first pushed. */
  private entries = new Map<string, PushedRuleSpec>();
  private owners: Record<string, OwnerSpec> = {};
  private queue: Promise<unknown> = Promise.resolve();

  constructor(supervisor: ShardSupervisor) {
    this.supervisor = supervisor;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Rule id for each data-plane rule name (the rule table's name). */
  idsByName(): Map<string, string> {
    return new Map([...this.entries.values()].map((entry) => [entry.spec.name, entry.id]));
  }

  /** The owner of a rule the edge holds. */
  ownerOf(id: string): string | undefined {
    return this.entries.get(id)?.spec.owner;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  /** What the edge runs now, for hello: each rule's id, revision and state. */
  current(): RuleResult[] {
    const live = this.liveStates();
    return [...this.entries.values()].map((entry) =>
      resultOf(entry.id, entry.revision, live.get(entry.spec.name)),
    );
  }

  push(push: PushMessage): Promise<PushOutcome> {
    const run = this.queue.then(() => this.applyPush(push));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyPush(push: PushMessage): Promise<PushOutcome> {
    const failures = new Map<string, RuleFailure>();
    const { owners, badOwners } = this.nextOwners(push.owners);

    // 1. Validate what was pushed.
    const pushed = new Map<string, PushedRuleSpec>();
    for (const rule of push.upsert) {
      failures.delete(rule.id);
      pushed.delete(rule.id);
      const badOwner = badOwners.get(rule.owner);
      if (badOwner !== undefined) {
        failures.set(rule.id, { code: 'rule_invalid', message: badOwner });
        continue;
      }
      const table = { ...rule.rule, owner: rule.owner };
      const checked = validate(ruleSchema, table);
      if (checked.ok) pushed.set(rule.id, { id: rule.id, revision: rule.revision, spec: checked.value });
      else {
        const message = checked.issues
          .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
          .join('; ');
        failures.set(rule.id, { code: 'rule_invalid', message });
      }
    }
    const revisions = new Map(push.upsert.map((rule) => [rule.id, rule.revision]));

    // 2. The next set: rules already running first (they keep their place), then newcomers.
    const previous = this.entries;
    const removed = new Set(
      push.full ? [...previous.keys()].filter((id) => !revisions.has(id)) : push.remove,
    );
    for (const id of removed) if (!push.full) pushed.delete(id);
    const order = [...new Set([...previous.keys(), ...pushed.keys()])].filter((id) => !removed.has(id));

    // 3. Clashes inside the set, checked in that order.
    const next = new Map<string, PushedRuleSpec>();
    const accepted: PushedRuleSpec[] = [];
    for (const id of order) {
      const candidates = [pushed.get(id), previous.get(id)].filter(
        (entry): entry is PushedRuleSpec => entry !== undefined,
      );
      for (const entry of candidates) {
        const clash = clashWith(entry, accepted);
        if (clash === null) {
          next.set(id, entry);
          accepted.push(entry);
          break;
        }
        if (entry === pushed.get(id)) failures.set(id, clash);
      }
    }

    // 4. Bind. A rule that does not come up is not kept: its previous revision goes back if it
    // had one, otherwise it is dropped, so the edge runs exactly what it acked active (the
    // server, not the edge, decides whether to push it again).
    let apply = await this.supervisor.apply(specsOf(next), owners);
    let live = this.liveStates();
    for (let round = 0; round < 2; round++) {
      const down = [...next.values()].filter((entry) => live.get(entry.spec.name)?.state !== 'active');
      if (down.length === 0) break;
      for (const entry of down) {
        const state = live.get(entry.spec.name);
        if (!failures.has(entry.id)) {
          failures.set(entry.id, {
            code: state?.error?.code ?? 'internal',
            message: state?.error?.message ?? 'the data plane does not hold this rule',
          });
        }
        const before = previous.get(entry.id);
        if (round === 0 && before !== undefined && before !== entry) next.set(entry.id, before);
        else next.delete(entry.id);
      }
      apply = await this.supervisor.apply(specsOf(next), owners);
      live = this.liveStates();
    }
    this.entries = next;
    this.owners = owners;

    // 5. One result per rule the push named, and per rule it took down otherwise.
    const results: RuleResult[] = [];
    for (const [id, revision] of revisions) {
      if (removed.has(id)) continue;
      const failure = failures.get(id);
      const entry = next.get(id);
      if (failure !== undefined || entry === undefined) {
        const { code, message } = failure ?? { code: 'internal', message: 'the rule was lost' };
        results.push({ ruleId: id, revision, state: 'failed', code, message });
      } else {
        results.push(resultOf(id, revision, live.get(entry.spec.name)));
      }
    }
    for (const id of removed) {
      results.push({
        ruleId: id,
        revision: previous.get(id)?.revision ?? revisions.get(id) ?? 0,
        state: 'removed',
      });
    }
    for (const [id, before] of previous) {
      if (revisions.has(id) || removed.has(id) || next.has(id)) continue;
      const { code, message } = failures.get(id) ?? { code: 'internal', message: 'the rule was lost' };
      results.push({ ruleId: id, revision: before.revision, state: 'failed', code, message });
    }
    return { results, apply };
  }

  private nextOwners(pushed: PushMessage['owners']): {
    owners: Record<string, OwnerSpec>;
    badOwners: Map<string, string>;
  } {
    const badOwners = new Map<string, string>();
    if (pushed === undefined) return { owners: this.owners, badOwners };
    const owners: Record<string, OwnerSpec> = {};
    for (const [name, table] of Object.entries(pushed)) {
      const checked = validate(limitsSchema, table, ['owners', name, 'limits']);
      if (checked.ok) owners[name] = { limits: checked.value };
      else {
        badOwners.set(name, checked.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
        const before = this.owners[name];
        if (before !== undefined) owners[name] = before;
      }
    }
    return { owners, badOwners };
  }

  /** The supervisor's snapshot of each rule it holds, by name (draining and removed ones left out). */
  private liveStates(): Map<string, RuleSnapshot> {
    const live = new Map<string, RuleSnapshot>();
    for (const rule of this.supervisor.snapshot()) {
      if (rule.state === 'draining' || rule.state === 'removed') continue;
      live.set(rule.name, rule);
    }
    return live;
  }
}

function specsOf(entries: Map<string, PushedRuleSpec>): RuleSpec[] {
  return [...entries.values()].map((entry) => entry.spec);
}

function resultOf(ruleId: string, revision: number, live: RuleSnapshot | undefined): RuleResult {
  if (live?.state === 'active') return { ruleId, revision, state: 'active' };
  if (live?.state === 'failed') {
    return {
      ruleId,
      revision,
      state: 'failed',
      code: live.error?.code ?? 'bind_failed',
      message: live.error?.message ?? '',
    };
  }
  return {
    ruleId,
    revision,
    state: 'failed',
    code: 'internal',
    message: 'the data plane does not hold this rule',
  };
}

/** Why `entry` cannot join `accepted`: a name already taken, or an overlapping listen. */
function clashWith(entry: PushedRuleSpec, accepted: readonly PushedRuleSpec[]): RuleFailure | null {
  const same = accepted.find((other) => other.spec.name === entry.spec.name);
  if (same !== undefined) {
    return {
      code: 'name_taken',
      message: `rule name ${JSON.stringify(entry.spec.name)} is already used by rule ${same.id}`,
    };
  }
  // SO_REUSEPORT would let both bind and split the connections between them, so an overlap is
  // refused here, as the config loader refuses it in a file.
  const { spec } = entry;
  const other = accepted.find(
    (o) => o.spec.protocol === spec.protocol && listensOverlap(o.spec.listen, spec.listen),
  );
  if (other !== undefined) {
    return {
      code: 'port_in_use',
      message: `${spec.protocol} ${formatListen(spec.listen)} overlaps ${formatListen(other.spec.listen)} of rule ${JSON.stringify(other.spec.name)} (${other.id})`,
    };
  }
  return null;
}
