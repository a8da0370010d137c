// The pushed rule set: the rules a managed edge runs, keyed by the server's rule ids, and how a
// push becomes a supervisor.change and then one result per rule for the ack:
//
// 1. every upserted rule table is validated with the config's ruleSchema (the pushed owner wins
//    over any `owner` key in the table); an invalid one is `failed rule_invalid`;
// 2. what changes: upserts whose table differs from what runs (an identical one, or one that runs
//    already, is left alone), and removals (those named, or for a full push those left out);
// 3. each change is checked against the rules that stay, by the name and listen indexes: a
//    second rule of the same name (`name_taken`) or a listen overlapping another rule's of the
//    same protocol (`port_in_use`) fails here, before any bind; rules the edge already runs keep
//    their place against newcomers;
// 4. supervisor.change(upserts, removed, owners) binds only those; each is `active` or `failed`
//    with the data plane's reason (port_in_use, permission_denied, ...); rules left out of a
//    full push are `removed`.
//
// So a push costs what its own rules cost, however many the edge holds; a full push (the replay
// on connect) is a push of every rule, bound in batches by the reconciler.
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
  type OwnerSpec,
  type RuleSpec,
  ruleSchema,
  validate,
} from '@sluice/config';
import type { ApplyResult, CoreErrorData, RuleState, ShardSupervisor } from '@sluice/core';
import type { PushedRule, RuleResult } from '@sluice/protocol';
import type { PushMessage } from './control-client.ts';
import { ListenIndex } from './listen-index.ts';

/** One pushed rule, validated: the server's id and revision, and the RuleSpec it runs as. */
interface PushedRuleSpec {
  readonly id: string;
  readonly revision: number;
  readonly spec: RuleSpec;
  /** The rule as the server pushed it, to be pushed again from the rules file (applied-rules-file.ts). */
  readonly pushed: PushedRule;
}

/** What the edge runs, as a full push would give it again: the rules, and the owners' tables. */
export interface AppliedRules {
  readonly upsert: PushedRule[];
  readonly owners: Record<string, Record<string, unknown>>;
}

/** Why a pushed rule is not running: what its failed RuleResult carries. */
type RuleFailure = { readonly code: string; readonly message: string };

/** What the data plane says of a rule it holds. */
type LiveState = { readonly state: RuleState; readonly error: CoreErrorData | null } | undefined;

export interface PushOutcome {
  /** One per rule the push named (and, for a full push, per rule it removed by leaving it out). */
  readonly results: RuleResult[];
  readonly apply: ApplyResult | null;
}

export class PushedRuleSet {
  private readonly supervisor: ShardSupervisor;
  /** What runs (or tried to and failed to bind), in the order the rules were first pushed. */
  private readonly entries = new Map<string, PushedRuleSpec>();
  /** Rule id by data-plane rule name, for the entries. */
  private readonly byName = new Map<string, string>();
  /** The entries' listens. */
  private readonly listens = new ListenIndex<string>();
  private owners: Record<string, OwnerSpec> = {};
  /** The owners' tables as last pushed. */
  private ownerTables: Record<string, Record<string, unknown>> = {};
  private queue: Promise<unknown> = Promise.resolve();

  constructor(supervisor: ShardSupervisor) {
    this.supervisor = supervisor;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Rule id for each data-plane rule name (the rule table's name). */
  idsByName(): ReadonlyMap<string, string> {
    return this.byName;
  }

  /** The owner of a rule the edge holds. */
  ownerOf(id: string): string | undefined {
    return this.entries.get(id)?.spec.owner;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  /** The rules that run and the owners' tables, to start from after a restart. */
  applied(): AppliedRules {
    const upsert: PushedRule[] = [];
    for (const entry of this.entries.values()) if (this.isActive(entry)) upsert.push(entry.pushed);
    return { upsert, owners: this.ownerTables };
  }

  /**
   * What a push naming `ids` changed in applied(): the rules among them that run, as pushed, and
   * the rest as removed (gone, or failed with no revision left running).
   */
  appliedChange(ids: Iterable<string>): { upsert: PushedRule[]; remove: string[] } {
    const upsert: PushedRule[] = [];
    const remove: string[] = [];
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry !== undefined && this.isActive(entry)) upsert.push(entry.pushed);
      else remove.push(id);
    }
    return { upsert, remove };
  }

  /** The owners' tables of the last push that carried them. */
  appliedOwners(): Record<string, Record<string, unknown>> {
    return this.ownerTables;
  }

  /** What the edge runs now, for hello: each rule's id, revision and state. */
  current(): RuleResult[] {
    return [...this.entries.values()].map((entry) =>
      resultOf(entry.id, entry.revision, this.supervisor.stateOf(entry.spec.name)),
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
      // The table of a rule held already (a full push repeats every rule) was validated when it
      // came: its spec is reused, so a replay of thousands of unchanged rules validates none.
      const held = this.entries.get(rule.id);
      if (held !== undefined && sameTable(held.pushed, rule)) {
        pushed.set(rule.id, { ...held, revision: rule.revision, pushed: rule });
        continue;
      }
      const table = { ...rule.rule, owner: rule.owner };
      const checked = validate(ruleSchema, table);
      if (checked.ok)
        pushed.set(rule.id, { id: rule.id, revision: rule.revision, spec: checked.value, pushed: rule });
      else {
        const message = checked.issues
          .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
          .join('; ');
        failures.set(rule.id, { code: 'rule_invalid', message });
      }
    }
    const revisions = new Map(push.upsert.map((rule) => [rule.id, rule.revision]));

    // 2. What changes: removals, and upserts that differ from what runs (rules already running
    // first, so they keep their place; then newcomers in push order). Only the rules the push
    // names are looked at, except that a full push looks for the rules it leaves out.
    const removed = new Set(
      push.full ? [...this.entries.keys()].filter((id) => !revisions.has(id)) : push.remove,
    );
    /** What ran before this push, of the rules it names. */
    const previous = new Map<string, PushedRuleSpec>();
    for (const id of [...revisions.keys(), ...removed]) {
      const entry = this.entries.get(id);
      if (entry !== undefined) previous.set(id, entry);
    }
    const changes: PushedRuleSpec[] = [];
    for (const [id, entry] of pushed) {
      if (removed.has(id)) continue;
      const before = previous.get(id);
      if (before !== undefined && sameSpec(before, entry) && this.isActive(before)) {
        this.entries.set(id, entry);
        continue;
      }
      changes.push(entry);
    }
    changes.sort((a, b) => Number(previous.has(b.id)) - Number(previous.has(a.id)));

    // 3. Take out what goes or changes, then check each change against what stays and what was
    // accepted before it.
    const retired: string[] = [];
    for (const id of removed) {
      const before = previous.get(id);
      if (before === undefined) continue;
      this.unindex(before);
      this.entries.delete(id);
      retired.push(before.spec.name);
    }
    for (const entry of changes) {
      const before = previous.get(entry.id);
      if (before !== undefined) this.unindex(before);
    }
    const upserts: PushedRuleSpec[] = [];
    for (const entry of changes) {
      const before = previous.get(entry.id);
      const clash = this.clashWith(entry);
      if (clash === null) {
        this.index(entry);
        this.entries.set(entry.id, entry);
        upserts.push(entry);
        if (before !== undefined && before.spec.name !== entry.spec.name) retired.push(before.spec.name);
        continue;
      }
      failures.set(entry.id, clash);
      if (before === undefined) continue;
      // The revision that ran stays, unless the push took its place from under it.
      if (this.clashWith(before) === null) this.index(before);
      else {
        this.entries.delete(entry.id);
        retired.push(before.spec.name);
      }
    }

    // 4. Bind. A rule that does not come up is not kept: its previous revision goes back if it
    // had one, otherwise it is dropped, so the edge runs exactly what it acked active (the
    // server, not the edge, decides whether to push it again).
    const apply = await this.supervisor.change(
      upserts.map((entry) => entry.spec),
      retired,
      owners,
    );
    let checking = upserts;
    for (let round = 0; round < 2 && checking.length > 0; round++) {
      const down = checking.filter((entry) => !this.isActive(entry));
      if (down.length === 0) break;
      const again: PushedRuleSpec[] = [];
      const gone: string[] = [];
      for (const entry of down) {
        const state = this.supervisor.stateOf(entry.spec.name);
        if (!failures.has(entry.id)) {
          failures.set(entry.id, {
            code: state?.error?.code ?? 'internal',
            message: state?.error?.message ?? 'the data plane does not hold this rule',
          });
        }
        this.unindex(entry);
        this.entries.delete(entry.id);
        gone.push(entry.spec.name);
        const before = previous.get(entry.id);
        if (round === 0 && before !== undefined && before !== entry && this.clashWith(before) === null) {
          this.index(before);
          this.entries.set(before.id, before);
          again.push(before);
        }
      }
      const names = new Set(again.map((entry) => entry.spec.name));
      await this.supervisor.change(
        again.map((entry) => entry.spec),
        gone.filter((name) => !names.has(name)),
        owners,
      );
      checking = again;
    }
    this.owners = owners;
    if (push.owners !== undefined) this.ownerTables = push.owners;

    // 5. One result per rule the push named.
    const results: RuleResult[] = [];
    for (const [id, revision] of revisions) {
      if (removed.has(id)) continue;
      const failure = failures.get(id);
      const entry = this.entries.get(id);
      if (failure !== undefined || entry === undefined) {
        const { code, message } = failure ?? { code: 'internal', message: 'the rule was lost' };
        results.push({ ruleId: id, revision, state: 'failed', code, message });
      } else {
        results.push(resultOf(id, revision, this.supervisor.stateOf(entry.spec.name)));
      }
    }
    for (const id of removed) {
      results.push({
        ruleId: id,
        revision: previous.get(id)?.revision ?? revisions.get(id) ?? 0,
        state: 'removed',
      });
    }
    return { results, apply };
  }

  private isActive(entry: PushedRuleSpec): boolean {
    return this.supervisor.stateOf(entry.spec.name)?.state === 'active';
  }

  /** Files `entry` under its name and listen. */
  private index(entry: PushedRuleSpec): void {
    this.byName.set(entry.spec.name, entry.id);
    this.listens.add(entry.spec.protocol, entry.spec.listen, entry.id);
  }

  private unindex(entry: PushedRuleSpec): void {
    if (this.byName.get(entry.spec.name) === entry.id) this.byName.delete(entry.spec.name);
    this.listens.delete(entry.id);
  }

  /** Why `entry` cannot join the rules held: a name already taken, or an overlapping listen. */
  private clashWith(entry: PushedRuleSpec): RuleFailure | null {
    const sameName = this.byName.get(entry.spec.name);
    if (sameName !== undefined && sameName !== entry.id) {
      return {
        code: 'name_taken',
        message: `rule name ${JSON.stringify(entry.spec.name)} is already used by rule ${sameName}`,
      };
    }
    // SO_REUSEPORT would let both bind and split the connections between them, so an overlap is
    // refused here, as the config loader refuses it in a file.
    const { spec } = entry;
    const other = this.listens.overlapping(spec.protocol, spec.listen);
    if (other !== null && other.value !== entry.id) {
      const otherName = this.entries.get(other.value)?.spec.name ?? '';
      return {
        code: 'port_in_use',
        message: `${spec.protocol} ${formatListen(spec.listen)} overlaps ${formatListen(other.listen)} of rule ${JSON.stringify(otherName)} (${other.value})`,
      };
    }
    return null;
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
}

/** The same table (at any revision): nothing for the data plane to do. */
function sameSpec(a: PushedRuleSpec, b: PushedRuleSpec): boolean {
  return a.spec === b.spec || JSON.stringify(a.spec) === JSON.stringify(b.spec);
}

/** Whether two pushes of a rule carry the same owner and table (the spec follows from them). */
function sameTable(a: PushedRule, b: PushedRule): boolean {
  return a.owner === b.owner && JSON.stringify(a.rule) === JSON.stringify(b.rule);
}

function resultOf(ruleId: string, revision: number, live: LiveState): RuleResult {
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
