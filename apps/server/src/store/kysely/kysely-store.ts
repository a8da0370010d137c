// The Store over a Kysely handle, for either backend: the aggregates of this directory bound to
// the store or to one transaction, and the store's boundary, where database failures become
// store_unavailable (store-errors.ts) and a transaction that calls the store itself is refused.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';
import type {
  AuditStore,
  EdgeStore,
  GrantStore,
  OwnerLimitStore,
  QuotaStore,
  ReplicaStore,
  RuleStore,
  StatsStore,
  Store,
  StoreAggregates,
  TrafficStore,
  UserStore,
} from '../store.ts';
import { storeFailure } from '../store-errors.ts';
import { KyselyAuditStore } from './audit-store.ts';
import { KyselyEdgeStore } from './edge-store.ts';
import { KyselyGrantStore } from './grant-store.ts';
import { KyselyOwnerLimitStore } from './owner-limit-store.ts';
import { KyselyQuotaStore } from './quota-store.ts';
import { KyselyReplicaStore } from './replica-store.ts';
import { KyselyRuleStore } from './rule-store.ts';
import { KyselyStatsStore } from './stats-store.ts';
import { StoreContext, type StoreDialect } from './store-context.ts';
import { KyselyTrafficStore } from './traffic-store.ts';
import { KyselyUserStore } from './user-store.ts';

export interface KyselyStoreOptions {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /** Names the database in store_unavailable messages: `SQLite /data/sluice.db`. */
  readonly backend: string;
  /** The clock, for tests of expiry. */
  readonly now?: (() => number) | undefined;
  /** Lets go of the database once Kysely is destroyed. */
  readonly release?: () => void;
}

/** Runs before each call of an aggregate; throws to refuse it. */
type Admission = () => void;

function aggregates(ctx: StoreContext): StoreAggregates {
  return {
    users: new KyselyUserStore(ctx),
    edges: new KyselyEdgeStore(ctx),
    rules: new KyselyRuleStore(ctx),
    stats: new KyselyStatsStore(ctx),
    audit: new KyselyAuditStore(ctx),
    grants: new KyselyGrantStore(ctx),
    ownerLimits: new KyselyOwnerLimitStore(ctx),
    quotas: new KyselyQuotaStore(ctx),
    traffic: new KyselyTrafficStore(ctx),
    replicas: new KyselyReplicaStore(ctx),
  };
}

export class KyselyStore implements Store {
  readonly dialect: StoreDialect;
  readonly users: UserStore;
  readonly edges: EdgeStore;
  readonly rules: RuleStore;
  readonly stats: StatsStore;
  readonly audit: AuditStore;
  readonly grants: GrantStore;
  readonly ownerLimits: OwnerLimitStore;
  readonly quotas: QuotaStore;
  readonly traffic: TrafficStore;
  readonly replicas: ReplicaStore;
  private readonly db: Kysely<Database>;
  private readonly backend: string;
  private readonly ctx: StoreContext;
  private readonly release: () => void;
  /** Set while a transaction's body runs: on SQLite the store's own methods would wait for it forever. */
  private readonly inTransaction = new AsyncLocalStorage<true>();
  /** Calls under way, which close waits for. */
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(options: KyselyStoreOptions) {
    this.db = options.db;
    this.dialect = options.dialect;
    this.backend = options.backend;
    this.release = options.release ?? (() => {});
    this.ctx = new StoreContext(options.db, options.dialect, options.now ?? Date.now, false, {
      lastPruneAt: undefined,
    });
    const own = this.guard(aggregates(this.ctx), () => {
      if (this.inTransaction.getStore() === true) {
        throw new Error('a store transaction called the store itself; inside a transaction use its tx');
      }
      if (this.closing !== null) throw new Error('the store is closed');
    });
    this.users = own.users;
    this.edges = own.edges;
    this.rules = own.rules;
    this.stats = own.stats;
    this.audit = own.audit;
    this.grants = own.grants;
    this.ownerLimits = own.ownerLimits;
    this.quotas = own.quotas;
    this.traffic = own.traffic;
    this.replicas = own.replicas;
  }

  /** The query builder itself, for the tools that copy whole tables (migrate-store.ts). */
  get kysely(): Kysely<Database> {
    return this.db;
  }

  /** The database, for messages: `SQLite FILE`, `PostgreSQL HOST/DB`. */
  get describe(): string {
    return this.backend;
  }

  transaction<T>(fn: (tx: StoreAggregates) => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore() === true) {
      return Promise.reject(
        new Error('a store transaction started another; inside a transaction use its tx'),
      );
    }
    if (this.closing !== null) return Promise.reject(new Error('the store is closed'));
    return this.track(async () => {
      try {
        return await this.db.transaction().execute(async (trx) => {
          let open = true;
          const tx = this.guard(aggregates(this.ctx.within(trx)), () => {
            if (!open) throw new Error('store transaction used after it ended');
          });
          try {
            return await this.inTransaction.run(true, () => fn(tx));
          } finally {
            open = false;
          }
        });
      } catch (error) {
        throw storeFailure(error, this.backend);
      }
    });
  }

  ping(): Promise<void> {
    if (this.closing !== null) return Promise.reject(new Error('the store is closed'));
    return this.track(async () => {
      try {
        await this.db.selectFrom('users').select('id').limit(1).execute();
      } catch (error) {
        throw storeFailure(error, this.backend);
      }
    });
  }

  now(): number {
    return this.ctx.now();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.running]);
      await this.db.destroy();
      this.release();
    })();
    return this.closing;
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    const call = work();
    this.running.add(call);
    const done = () => this.running.delete(call);
    call.then(done, done);
    return call;
  }

  /** Each aggregate with every method admitted first, tracked, and its failures mapped. */
  private guard(set: StoreAggregates, admit: Admission): StoreAggregates {
    const wrap = <A extends object>(aggregate: A): A =>
      new Proxy(aggregate, {
        get: (target, key, receiver) => {
          const value: unknown = Reflect.get(target, key, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            try {
              admit();
            } catch (error) {
              return Promise.reject(error);
            }
            return this.track(async () => {
              try {
                return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
              } catch (error) {
                throw storeFailure(error, this.backend);
              }
            });
          };
        },
      });
    return Object.fromEntries(
      Object.entries(set).map(([name, aggregate]) => [name, wrap(aggregate as object)]),
    ) as unknown as StoreAggregates;
  }
}
