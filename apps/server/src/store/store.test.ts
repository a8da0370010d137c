import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerError } from '../errors.ts';
import { tempDir } from '../test-harness.ts';
import { MIGRATIONS, type Migration, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.ts';
import { hashSecret } from './secrets.ts';
import { Store } from './store.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = tempDir('sluice-store-');
  file = join(dir, 'sluice.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ServerError) return error.code;
    throw error;
  }
  return undefined;
}

describe('migrations', () => {
  it('brings a new database to the last version once, and a reopen changes nothing', () => {
    new Store(file).close();
    const db = new DatabaseSync(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(migrate(db, file)).toEqual([]);
    db.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('applies the missing migrations in order, each in its own transaction', () => {
    const db = new DatabaseSync(file);
    const first: Migration = { version: 1, name: 'a', sql: 'CREATE TABLE a (x INTEGER)' };
    const second: Migration = { version: 2, name: 'b', sql: 'ALTER TABLE a ADD COLUMN y TEXT' };
    expect(migrate(db, file, [first])).toEqual([1]);
    expect(migrate(db, file, [first, second])).toEqual([2]);
    expect(schemaVersion(db)).toBe(2);
    // A migration that fails leaves the database at the version before it.
    const broken: Migration = {
      version: 3,
      name: 'broken',
      sql: 'CREATE TABLE b (x); SELECT nonsense FROM nowhere',
    };
    expect(codeOf(() => migrate(db, file, [first, second, broken]))).toBe('store_unusable');
    expect(schemaVersion(db)).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database from a newer server with schema_too_new', () => {
    new Store(file).close();
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
      SCHEMA_VERSION + 1,
      'future',
      0,
    );
    db.close();
    expect(codeOf(() => new Store(file))).toBe('schema_too_new');
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });
});

describe('tokens', () => {
  it('stores only the SHA-256 of a token, and refuses unknown and revoked ones', () => {
    const store = new Store(file);
    const user = store.createUser('admin', 'admin');
    const { id, token } = store.createToken(user.id);
    expect(store.tokenHashes()).toEqual([hashSecret(token)]);
    expect(store.authenticate(token)).toMatchObject({ name: 'admin', role: 'admin' });
    expect(store.authenticate(`${token}x`)).toBeNull();
    store.revokeToken(id);
    expect(store.authenticate(token)).toBeNull();
    // The token itself appears nowhere in the file, nor in its WAL while open.
    const secretPart = Buffer.from(token.slice(4));
    expect(readFileSync(join(dir, 'sluice.db-wal')).includes(secretPart)).toBe(false);
    store.close();
    expect(readFileSync(file).includes(secretPart)).toBe(false);
    expect(readFileSync(file).includes(Buffer.from(hashSecret(token)))).toBe(true);
  });
});

describe('enrollment codes', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('are used once; the secret is stored as a hash', () => {
    const store = new Store(file, { now: clock });
    const { code, edge } = store.createEnrollment('edge-01', 60_000, 'admin');
    const redeemed = store.redeemEnrollment(code);
    expect(redeemed).toMatchObject({ ok: true, edge: { id: edge.id, name: 'edge-01', enrolledAt: now } });
    if (!redeemed.ok) throw new Error('unreachable');
    expect(store.edgeSecretMatches(edge.id, redeemed.secret)).toBe(true);
    expect(store.edgeSecretMatches(edge.id, `${redeemed.secret}x`)).toBe(false);
    expect(store.redeemEnrollment(code)).toMatchObject({ ok: false, code: 'code_used' });
    store.close();
  });

  it('expire at their ttl', () => {
    const store = new Store(file, { now: clock });
    const { code } = store.createEnrollment('edge-01', 60_000, 'admin');
    now += 60_000;
    expect(store.redeemEnrollment(code)).toMatchObject({ ok: false, code: 'code_expired' });
    store.close();
  });

  it('are superseded by a newer code for the same edge, which keeps its id', () => {
    const store = new Store(file, { now: clock });
    const first = store.createEnrollment('edge-01', 60_000, 'admin');
    const second = store.createEnrollment('edge-01', 60_000, 'admin');
    expect(second.edge.id).toBe(first.edge.id);
    expect(store.redeemEnrollment(first.code)).toMatchObject({ ok: false, code: 'code_superseded' });
    expect(store.redeemEnrollment('unknown-code')).toMatchObject({ ok: false, code: 'code_unknown' });
    expect(store.redeemEnrollment(second.code).ok).toBe(true);
    store.close();
  });

  it('enrolling a revoked edge again lifts the revocation and replaces its secret', () => {
    const store = new Store(file, { now: clock });
    const first = store.createEnrollment('edge-01', 60_000, 'admin');
    const old = store.redeemEnrollment(first.code);
    if (!old.ok) throw new Error('unreachable');
    store.revokeEdge(first.edge.id);
    const again = store.redeemEnrollment(store.createEnrollment('edge-01', 60_000, 'admin').code);
    expect(again).toMatchObject({ ok: true, edge: { revokedAt: null } });
    expect(store.edgeSecretMatches(first.edge.id, old.secret)).toBe(false);
    store.close();
  });
});

describe('rules', () => {
  it('hold a name per edge while live; a tombstone frees it', () => {
    const store = new Store(file);
    const { edge } = store.createEnrollment('edge-01', 60_000, null);
    const body = { name: 'web', listen: '127.0.0.1:1', targets: ['127.0.0.1:2'] };
    const rule = store.insertRule({ edgeId: edge.id, owner: 'alice', name: 'web', body });
    expect(rule).toMatchObject({ state: 'pending', revision: 1, edgeName: 'edge-01', body });
    expect(() => store.insertRule({ edgeId: edge.id, owner: 'alice', name: 'web', body })).toThrow(/UNIQUE/);
    store.tombstoneRule(rule.id);
    expect(store.listRules()).toEqual([]);
    store.insertRule({ edgeId: edge.id, owner: 'alice', name: 'web', body });
    expect(store.purgeTombstones(edge.id)).toBe(1);
    store.close();
  });

  it('record an ack only for the current revision of a rule of that edge', () => {
    const store = new Store(file);
    const { edge } = store.createEnrollment('edge-01', 60_000, null);
    const rule = store.insertRule({ edgeId: edge.id, owner: 'a', name: 'web', body: {} });
    store.reviseRule(rule.id, { name: 'web', body: { changed: true } });
    expect(store.setRuleState(edge.id, rule.id, 1, 'active')).toBe(false);
    expect(store.setRuleState('e_other', rule.id, 2, 'active')).toBe(false);
    expect(store.setRuleState(edge.id, rule.id, 2, 'failed', 'port_in_use', 'busy')).toBe(true);
    expect(store.getRule(rule.id)).toMatchObject({
      revision: 2,
      state: 'failed',
      reason: 'port_in_use',
      message: 'busy',
    });
    expect(store.countRulesByState()).toEqual({ pending: 0, active: 0, failed: 1, removed: 0 });
    store.close();
  });
});

describe('stats', () => {
  it('fold cumulative reports into totals: deltas per boot, a new bootId starts from zero', () => {
    let now = 0;
    const store = new Store(file, { now: () => now });
    const { edge } = store.createEnrollment('edge-01', 60_000, null);
    const rule = store.insertRule({ edgeId: edge.id, owner: 'a', name: 'web', body: {} });
    const report = (bytesIn: number, active = 0) => ({
      ruleId: rule.id,
      bytesIn,
      bytesOut: 0,
      connectionsTotal: 1,
      activeConnections: active,
      rejected: 0,
      connectErrors: 0,
    });
    store.recordStats(edge.id, 'boot-a', [report(1000)]);
    now = 5000;
    const [second] = store.recordStats(edge.id, 'boot-a', [report(6000, 3)]);
    expect(second).toMatchObject({
      bytesIn: 6000,
      bytesInPerSec: 1000,
      connectionsTotal: 1,
      activeConnections: 3,
    });
    now = 10_000;
    const [third] = store.recordStats(edge.id, 'boot-b', [report(500)]);
    expect(third).toMatchObject({ bytesIn: 6500, connectionsTotal: 2, bytesInPerSec: 100 });
    // A report for a rule of another edge is ignored.
    const other = store.createEnrollment('edge-02', 60_000, null).edge;
    expect(store.recordStats(other.id, 'boot-c', [report(1e9)])).toEqual([]);
    // A new store (a server restart) continues from the stored baseline.
    store.close();
    const reopened = new Store(file, { now: () => 15_000 });
    expect(reopened.recordStats(edge.id, 'boot-b', [report(700)])[0]).toMatchObject({ bytesIn: 6700 });
    reopened.close();
  });
});

describe('audit', () => {
  it('lists the newest entries first', () => {
    const store = new Store(file);
    store.audit({ user: 'a', action: 'one', target: null, outcome: 'ok', from: '127.0.0.1' });
    store.audit({ user: null, action: 'two', target: 'r_1', outcome: 'forbidden', from: null });
    expect(store.listAudit(1)).toEqual([
      { at: expect.any(Number), user: null, action: 'two', target: 'r_1', outcome: 'forbidden', from: null },
    ]);
    expect(store.listAudit(10).map((e) => e.action)).toEqual(['two', 'one']);
    store.close();
  });
});
