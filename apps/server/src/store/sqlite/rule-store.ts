// Rules in SQLite: the rule table as JSON, its revision and the state the edge last reported.
// A removed rule stays as a tombstone until its edge confirms.

import type { RuleRecord, RuleState } from '../records.ts';
import { newId } from '../secrets.ts';
import type { NewRule, RuleFilter, RuleStore } from '../store.ts';
import type { SqliteConnection, SqliteScope } from './sqlite-connection.ts';
import { num, type Row, str, strOrNull } from './sqlite-row.ts';

const RULE_SELECT = 'SELECT r.*, e.name AS edge_name FROM rules r JOIN edges e ON e.id = r.edge_id';

function toRule(row: Row): RuleRecord {
  return {
    id: str(row.id),
    edgeId: str(row.edge_id),
    edgeName: str(row.edge_name),
    owner: str(row.owner),
    name: str(row.name),
    revision: num(row.revision),
    state: str(row.state) as RuleState,
    reason: strOrNull(row.reason),
    message: strOrNull(row.message),
    body: JSON.parse(str(row.body)) as Record<string, unknown>,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function getRule(db: SqliteConnection, id: string): RuleRecord | null {
  const row = db.get(`${RULE_SELECT} WHERE r.id = ?`, id);
  return row === undefined ? null : toRule(row);
}

export class SqliteRuleStore implements RuleStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  get(id: string): Promise<RuleRecord | null> {
    return this.scope.use((db) => getRule(db, id));
  }

  list(filter: RuleFilter = {}): Promise<RuleRecord[]> {
    return this.scope.use((db) =>
      db
        .all(
          `${RULE_SELECT} WHERE r.state != 'removed' AND (?1 IS NULL OR r.edge_id = ?1) AND (?2 IS NULL OR r.owner = ?2)
           ORDER BY e.name, r.name`,
          filter.edgeId ?? null,
          filter.owner ?? null,
        )
        .map(toRule),
    );
  }

  ofEdge(edgeId: string): Promise<RuleRecord[]> {
    return this.scope.use((db) =>
      db.all(`${RULE_SELECT} WHERE r.edge_id = ? ORDER BY r.name`, edgeId).map(toRule),
    );
  }

  countByState(): Promise<Record<RuleState, number>> {
    return this.scope.use((db) => {
      const counts: Record<RuleState, number> = { pending: 0, active: 0, failed: 0, removed: 0 };
      for (const row of db.all('SELECT state, COUNT(*) AS n FROM rules GROUP BY state')) {
        counts[str(row.state) as RuleState] = num(row.n);
      }
      return counts;
    });
  }

  insert(rule: NewRule): Promise<RuleRecord> {
    return this.scope.use((db) => {
      const id = newId('r_');
      const now = db.now();
      db.run(
        `INSERT INTO rules (id, edge_id, owner, name, revision, state, body, created_at, updated_at)
         VALUES (?, ?, ?, ?, 1, 'pending', ?, ?, ?)`,
        id,
        rule.edgeId,
        rule.owner,
        rule.name,
        JSON.stringify(rule.body),
        now,
        now,
      );
      return getRule(db, id)!;
    });
  }

  revise(id: string, change: { name: string; body: Record<string, unknown> }): Promise<RuleRecord> {
    return this.scope.use((db) => {
      db.run(
        `UPDATE rules SET name = ?, body = ?, revision = revision + 1, state = 'pending', reason = NULL, message = NULL,
         updated_at = ? WHERE id = ?`,
        change.name,
        JSON.stringify(change.body),
        db.now(),
        id,
      );
      return getRule(db, id)!;
    });
  }

  setState(
    edgeId: string,
    id: string,
    revision: number,
    state: Exclude<RuleState, 'removed'>,
    reason: string | null = null,
    message: string | null = null,
  ): Promise<boolean> {
    return this.scope.use(
      (db) =>
        db.run(
          `UPDATE rules SET state = ?, reason = ?, message = ?, updated_at = ?
           WHERE id = ? AND edge_id = ? AND revision = ? AND state != 'removed'`,
          state,
          reason,
          message,
          db.now(),
          id,
          edgeId,
          revision,
        ) > 0,
    );
  }

  tombstone(id: string): Promise<RuleRecord | null> {
    return this.scope.use((db) => {
      db.run(
        "UPDATE rules SET state = 'removed', reason = NULL, message = NULL, updated_at = ? WHERE id = ?",
        db.now(),
        id,
      );
      return getRule(db, id);
    });
  }

  delete(id: string): Promise<boolean> {
    return this.scope.use((db) => db.run('DELETE FROM rules WHERE id = ?', id) > 0);
  }

  purgeTombstones(edgeId: string, ids?: readonly string[]): Promise<number> {
    return this.scope.use((db) => {
      if (ids === undefined)
        return db.run("DELETE FROM rules WHERE edge_id = ? AND state = 'removed'", edgeId);
      let purged = 0;
      for (const id of ids)
        purged += db.run("DELETE FROM rules WHERE id = ? AND edge_id = ? AND state = 'removed'", id, edgeId);
      return purged;
    });
  }
}
