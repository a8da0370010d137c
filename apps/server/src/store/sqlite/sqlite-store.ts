// The Store in one SQLite file (node:sqlite), the embedded default. One connection: every call
// takes its turn on it (serial-queue.ts), and a transaction holds it from BEGIN to COMMIT, so
// no other caller's statement lands inside it. Opening migrates the file and fails with
// store_unusable or schema_too_new.

import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  AuditStore,
  EdgeStore,
  GrantStore,
  OwnerLimitStore,
  QuotaStore,
  RuleStore,
  StatsStore,
  Store,
  StoreAggregates,
  TrafficStore,
  UserStore,
} from '../store.ts';
import { SqliteAuditStore } from './audit-store.ts';
import { SqliteEdgeStore } from './edge-store.ts';
import { SqliteGrantStore } from './grant-store.ts';
import { SqliteOwnerLimitStore } from './owner-limit-store.ts';
import { SqliteQuotaStore } from './quota-store.ts';
import { SqliteRuleStore } from './rule-store.ts';
import { SerialQueue } from './serial-queue.ts';
import { SqliteConnection, type SqliteScope } from './sqlite-connection.ts';
import { SqliteStatsStore } from './stats-store.ts';
import { SqliteTrafficStore } from './traffic-store.ts';
import { SqliteUserStore } from './user-store.ts';

export interface SqliteStoreOptions {
  /** The clock, for tests of expiry. */
  readonly now?: () => number;
}

function aggregates(scope: SqliteScope): StoreAggregates {
  return {
    users: new SqliteUserStore(scope),
    edges: new SqliteEdgeStore(scope),
    rules: new SqliteRuleStore(scope),
    stats: new SqliteStatsStore(scope),
    audit: new SqliteAuditStore(scope),
    grants: new SqliteGrantStore(scope),
    ownerLimits: new SqliteOwnerLimitStore(scope),
    quotas: new SqliteQuotaStore(scope),
    traffic: new SqliteTrafficStore(scope),
  };
}

export class SqliteStore implements Store {
  readonly file: string;
  readonly users: UserStore;
  readonly edges: EdgeStore;
  readonly rules: RuleStore;
  readonly stats: StatsStore;
  readonly audit: AuditStore;
  readonly grants: GrantStore;
  readonly ownerLimits: OwnerLimitStore;
  readonly quotas: QuotaStore;
  readonly traffic: TrafficStore;
  private readonly connection: SqliteConnection;
  private readonly queue = new SerialQueue();
  /** Set while a transaction's body runs: the store's own methods would wait for it forever. */
  private readonly inTransaction = new AsyncLocalStorage<true>();

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.file = file;
    this.connection = new SqliteConnection(file, options.now ?? Date.now);
    const connection = this.connection;
    const own = aggregates({
      use: (work) => {
        if (this.inTransaction.getStore() === true) {
          return Promise.reject(
            new Error('a store transaction called the store itself; inside a transaction use its tx'),
          );
        }
        return this.queue.run(() => work(connection));
      },
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
  }

  transaction<T>(fn: (tx: StoreAggregates) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      const connection = this.connection;
      let open = true;
      const tx = aggregates({
        use: async (work) => {
          if (!open) throw new Error('store transaction used after it ended');
          return work(connection);
        },
      });
      connection.begin();
      try {
        const result = await this.inTransaction.run(true, () => fn(tx));
        connection.commit();
        return result;
      } catch (error) {
        connection.rollback();
        throw error;
      } finally {
        open = false;
      }
    });
  }

  close(): Promise<void> {
    return this.queue.run(() => this.connection.close());
  }
}
