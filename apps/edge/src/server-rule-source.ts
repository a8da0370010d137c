// The managed edge's rules: whatever the server pushes over the control session. Each push is
// applied (pushed-rule-set.ts) and acked; cumulative stats go back every statsIntervalMs. The data
// plane never waits on the session: while it is down the rules keep forwarding, and the server's
// full push on the next session reconciles. The rules applied are saved after each push
// (applied-rules-file.ts), so an edge that restarts while the server is away forwards them too.
// A revoked edge drains and exits (exit code 5).
// A push's quotas become each owner's budget in the QoS table (bytes left: the pushed stop point
// less what the owner has moved this boot), and the counters go to the state file every second.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Bundle, formatControlAddress, type QuotaBudget, type RuleStats } from '@sluice/protocol';
import { AppliedRulesWriter, readAppliedRules } from './applied-rules-file.ts';
import type { Backoff } from './backoff.ts';
import { ControlClient, type PushMessage } from './control-client.ts';
import { EDGE_STATE_INTERVAL_MS, readEdgeState, writeEdgeState } from './edge-state-file.ts';
import { EDGE_ERRORS } from './errors.ts';
import type { HandedCounters } from './handover-messages.ts';
import { OwnerUsage } from './owner-usage.ts';
import { PushedRuleSet } from './pushed-rule-set.ts';
import type { RuleSource, RuleSourceContext } from './rule-source.ts';
import { RuleStatsCollector, type Totals } from './rule-stats-collector.ts';

export interface ServerRuleSourceOptions {
  readonly bundle: Bundle;
  readonly backoff?: Backoff;
  readonly silenceTimeoutMs?: number;
  readonly pingIntervalMs?: number;
  /** Where the counters are kept across a kill (edge-state-file.ts); none: they are not. */
  readonly stateFile?: string;
  /** Where the last applied rules are kept, to resume from (applied-rules-file.ts); none: they are not. */
  readonly rulesFile?: string;
}

const REVOKED_EXIT_CODE = EDGE_ERRORS.table.edge_revoked.exitCode;

/**
 * How long the rules are left unsaved after a push, and between two writes: pushes within the
 * wait share one write (one journal line, or one snapshot), and the push's ack goes out first.
 */
const RULES_WRITE_DELAY_MS = 100;

/** Each rule's cumulative counters by id (its level of open connections left out). */
function countedTotals(current: readonly RuleStats[]): Record<string, Totals> {
  return Object.fromEntries(current.map(({ ruleId, activeConnections: _, ...counted }) => [ruleId, counted]));
}

export class ServerRuleSource implements RuleSource {
  readonly mode = 'managed';
  /**
   * The id the cumulative counters count under: the state file's when this edge was killed and
   * left one (the counters go on), else a fresh one (the server re-baselines when it changes).
   */
  bootId: string = randomUUID();
  private readonly options: ServerRuleSourceOptions;
  private client: ControlClient | null = null;
  private context: RuleSourceContext | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  /** Starts the state file and the control session: at once, or for a successor at carry(). */
  private begin: () => void = () => {};
  /** Takes over the old edge's counters (a successor): its boot, the rules' counts, the owners' usage. */
  private takeCounters: (counters: HandedCounters, first: boolean) => void = () => {};
  /** The counters as a successor carries them on (handOff). */
  private handedCounters: () => HandedCounters = () => ({
    bootId: this.bootId,
    rules: {},
    usage: { owners: {}, rules: {} },
  });

  constructor(options: ServerRuleSourceOptions) {
    this.options = options;
  }

  async start(context: RuleSourceContext): Promise<Readonly<Record<string, unknown>>> {
    this.context = context;
    const { supervisor, log } = context;
    const { bundle } = this.options;
    const rules = new PushedRuleSet(supervisor);
    // A successor's old edge is still counting under the state file's boot: its counters come
    // over the hand-over channel instead (carry).
    const saved =
      this.options.stateFile && !context.successor
        ? await readEdgeState(this.options.stateFile, bundle.edgeId)
        : null;
    if (saved?.state) this.bootId = saved.state.bootId;
    else if (saved?.reason)
      log.warn({ reason: saved.reason }, 'edge state not used: counters start from zero');
    const stats = new RuleStatsCollector(supervisor, saved?.state?.rules);
    let usage = new OwnerUsage(saved?.state?.usage);
    /** Reads the counters, and adds what each owner moved since the last read to its usage. */
    const collect = () => {
      const current = stats.collect(rules.ids(), rules.idsByName());
      usage.observe(current, (id) => rules.ownerOf(id));
      return current;
    };
    const applyQuotas = (quotas: Readonly<Record<string, QuotaBudget>>) => {
      // Usage is brought up to date for the budgets; with none (a full push without quotas, at
      // every connect) the next read counts what moved meanwhile, and no read of every rule's
      // counters holds up the ack.
      if (Object.keys(quotas).length > 0) collect();
      const left = new Map<string, bigint>();
      for (const [owner, { stopAt }] of Object.entries(quotas))
        left.set(owner, BigInt(Math.max(0, Math.floor(stopAt - usage.of(owner)))));
      const full = supervisor.setQuotas(left);
      if (full.length > 0)
        log.error({ owners: full }, 'no QoS room for these owners: their quotas are not enforced');
    };
    const stateFile = this.options.stateFile;
    /** The collector's generation the state file holds; null: to be written (at start, after a hand-over). */
    let stateWritten: number | null = null;
    const startStateFile = (file: string): void => {
      let writing = false;
      this.stateTimer = setInterval(() => {
        if (writing) return;
        const current = collect();
        // Nothing moved since the last write: the file already says it (10,000 idle rules
        // would otherwise be written out every second).
        const generation = stats.generation;
        if (stateWritten === generation) return;
        writing = true;
        const totals = countedTotals(current);
        writeEdgeState(file, {
          version: 1,
          edgeId: bundle.edgeId,
          bootId: this.bootId,
          rules: totals,
          usage: usage.state(),
        })
          .then(() => {
            stateWritten = generation;
          })
          .catch((err: unknown) => log.warn({ file, err: String(err) }, 'edge state not written'))
          .finally(() => {
            writing = false;
          });
      }, EDGE_STATE_INTERVAL_MS);
      this.stateTimer.unref();
    };
    let quotas: Readonly<Record<string, QuotaBudget>> = {};
    const rulesFile = this.options.rulesFile;
    const rulesWriter = rulesFile === undefined ? null : new AppliedRulesWriter(rulesFile, bundle.edgeId);
    // The rules are saved after pushes, but at most one write is in flight and each waits
    // RULES_WRITE_DELAY_MS first: the push's ack goes out before it, and pushes that land
    // meanwhile are saved together. A full push (and a journal grown as big as the snapshot)
    // writes the whole set; any other push appends the rules it named to the journal.
    const nothingUnsaved = () => ({ full: false, ids: new Set<string>(), owners: false, quotas: false });
    let unsaved = nothingUnsaved();
    /** The writes in progress, done when the files hold the last push; null: none. */
    let savingRules: Promise<void> | null = null;
    const writeRules = async (writer: AppliedRulesWriter) => {
      while (unsaved.full || unsaved.ids.size > 0 || unsaved.owners || unsaved.quotas) {
        await sleep(RULES_WRITE_DELAY_MS);
        const change = unsaved;
        unsaved = nothingUnsaved();
        const savedAt = new Date().toISOString();
        try {
          if (change.full || writer.wantsSnapshot) {
            await writer.snapshot({ savedAt, ...rules.applied(), quotas });
          } else {
            await writer.append({
              ...rules.appliedChange(change.ids),
              ...(change.owners ? { owners: rules.appliedOwners() } : {}),
              ...(change.quotas ? { quotas } : {}),
            });
          }
        } catch (err) {
          log.warn({ file: writer.file, err: String(err) }, 'applied rules not saved');
          // What the journal holds is no longer known: the next save writes the whole set.
          unsaved.full = true;
        }
      }
      // In the same turn as the loop's last check, so a push after it starts a new write.
      savingRules = null;
    };
    const saveRules = (push: PushMessage) => {
      if (rulesWriter === null) return;
      if (push.full) unsaved.full = true;
      for (const rule of push.upsert) unsaved.ids.add(rule.id);
      for (const id of push.remove) unsaved.ids.add(id);
      if (push.owners !== undefined) unsaved.owners = true;
      if (push.quotas !== undefined) unsaved.quotas = true;
      savingRules ??= writeRules(rulesWriter);
    };
    if (rulesFile !== undefined) {
      const resumed = await readAppliedRules(rulesFile, bundle.edgeId);
      if (resumed.state !== null) {
        if (resumed.journalCut !== null) {
          log.warn(
            { reason: resumed.journalCut },
            'applied rules journal read up to a bad line: later pushes wait for the server',
          );
        }
        const { upsert, owners, savedAt } = resumed.state;
        quotas = resumed.state.quotas;
        // As the server's full push would give them: the first session's full push then changes
        // only what changed while the server was away.
        const { results } = await rules.push({
          type: 'push',
          pushId: 0,
          full: true,
          upsert,
          remove: [],
          owners,
          quotas,
        });
        applyQuotas(quotas);
        const failed = results.filter((result) => result.state === 'failed');
        log.info(
          {
            file: rulesFile,
            saved_at: savedAt,
            active: results.length - failed.length,
            failed: failed.map((r) => ({ rule_id: r.ruleId, reason: r.code })),
          },
          'rules resumed from the last applied set; the server reconciles them at the first session',
        );
      } else if (resumed.reason !== null) {
        log.warn(
          { reason: resumed.reason },
          'applied rules not resumed: starting with none until the server pushes',
        );
      }
    }
    const capabilities = [
      'tcp',
      'udp',
      'sni',
      'proxy_protocol',
      'qos',
      ...(supervisor.splice.enabled ? ['splice'] : []),
    ];
    const startSession = (): ControlClient =>
      new ControlClient({
        servers: bundle.servers,
        pin: bundle.pin,
        edgeId: bundle.edgeId,
        secret: bundle.secret,
        bootId: this.bootId,
        capabilities,
        log,
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
        ...(this.options.silenceTimeoutMs ? { silenceTimeoutMs: this.options.silenceTimeoutMs } : {}),
        ...(this.options.pingIntervalMs ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
        handler: {
          ruleCount: () => rules.current().length,
          push: async (push) => {
            const { results, apply } = await rules.push(push);
            if (push.quotas !== undefined) {
              quotas = push.quotas;
              applyQuotas(push.quotas);
            }
            saveRules(push);
            const count = (state: string) => results.filter((r) => r.state === state).length;
            log.info(
              {
                push_id: push.pushId,
                full: push.full,
                active: count('active'),
                failed: results
                  .filter((r) => r.state === 'failed')
                  .map((r) => ({ rule_id: r.ruleId, reason: r.code })),
                removed: count('removed'),
                // Counts, not names: a full push names every rule the edge holds.
                added: apply?.added.length ?? 0,
                changed: apply?.changed.length ?? 0,
                rules: rules.size,
              },
              'rules applied',
            );
            return results;
          },
          stats: collect,
          owners: () => usage.report(),
        },
      });
    const watchRevoke = (client: ControlClient): void => {
      client.on('revoked', (error) => {
        log.error(
          { reason: error.code, detail: error.message, exit_code: REVOKED_EXIT_CODE },
          'edge revoked: draining and exiting; enroll again to manage this host',
        );
        // A revoked edge must not come back forwarding: its saved rules go before it exits.
        void (savingRules ?? Promise.resolve())
          .then(() => rulesWriter?.remove())
          .catch((err: unknown) =>
            log.warn({ file: rulesFile, err: String(err) }, 'applied rules not removed'),
          )
          .finally(() => context.shutdown(REVOKED_EXIT_CODE));
      });
    };
    this.begin = () => {
      if (stateFile !== undefined) startStateFile(stateFile);
      const client = startSession();
      this.client = client;
      watchRevoke(client);
      client.start();
    };
    this.takeCounters = (counters, first) => {
      stats.carry(counters.rules);
      stateWritten = null;
      if (!first) return;
      this.bootId = counters.bootId;
      usage = new OwnerUsage(counters.usage);
      // The budgets were set against this edge's usage alone: now against the boot's.
      applyQuotas(quotas);
    };
    this.handedCounters = () => {
      return { bootId: this.bootId, rules: countedTotals(collect()), usage: usage.state() };
    };
    if (!context.successor) this.begin();
    return {
      edge_id: bundle.edgeId,
      servers: bundle.servers.map(formatControlAddress),
      boot_id: this.bootId,
    };
  }

  async reload(): Promise<void> {
    this.context?.log.info({}, 'SIGHUP ignored: a managed edge takes its rules from the server');
  }

  stop(): void {
    if (this.stateTimer !== null) clearInterval(this.stateTimer);
    this.client?.stop();
  }

  handOff(): () => HandedCounters {
    this.stop();
    return this.handedCounters;
  }

  carry(counters: HandedCounters | null, first: boolean): void {
    if (counters !== null) this.takeCounters(counters, first);
    if (first) this.begin();
  }
}
