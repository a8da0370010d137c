// Whether a failed statement broke a UNIQUE constraint, in either backend's words: where two
// servers race to take one name, the database's index decides, and the loser answers as if it
// had seen the winner's row.

/** SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (extended result codes). */
const SQLITE_UNIQUE = new Set([2067, 1555]);
/** PostgreSQL's unique_violation SQLSTATE. */
const PG_UNIQUE = '23505';

export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  return code === PG_UNIQUE || (typeof errcode === 'number' && SQLITE_UNIQUE.has(errcode));
}
