import { describe, expect, it } from 'vitest';
import { SERVER_ERRORS } from '../errors.ts';
import { storeFailure } from './store-errors.ts';

function failure(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

const codeOf = (error: unknown) => (SERVER_ERRORS.is(error) ? error.code : null);

describe('storeFailure', () => {
  it('makes connection failures store_unavailable, naming the backend and the cause', () => {
    const refused = storeFailure(
      failure('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      'PostgreSQL db:5432/s',
    );
    expect(codeOf(refused)).toBe('store_unavailable');
    expect((refused as Error).message).toBe(
      'PostgreSQL db:5432/s is unavailable: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432',
    );
    for (const code of ['57P01', '57P02', '57P03', '08006', '08001']) {
      expect(codeOf(storeFailure(failure('x', { code }), 'PG'))).toBe('store_unavailable');
    }
    for (const message of ['Connection terminated unexpectedly', 'timeout exceeded when trying to connect']) {
      expect(codeOf(storeFailure(new Error(message), 'PG'))).toBe('store_unavailable');
    }
    const both = new AggregateError([failure('a', { code: 'ECONNREFUSED' })], '');
    expect(codeOf(storeFailure(both, 'PG'))).toBe('store_unavailable');
  });

  it('makes SQLite busy, locked, I/O and full-disk errors store_unavailable, by primary code', () => {
    for (const errcode of [5, 6, 10, 13, 5 | (3 << 8), 10 | (3 << 8)]) {
      const error = failure('database is locked', { code: 'ERR_SQLITE_ERROR', errcode });
      expect(codeOf(storeFailure(error, 'SQLite f'))).toBe('store_unavailable');
    }
  });

  it('passes everything else through unchanged', () => {
    const unique = failure('UNIQUE constraint failed: rules.name', {
      code: 'ERR_SQLITE_ERROR',
      errcode: 2067,
    });
    expect(storeFailure(unique, 'SQLite f')).toBe(unique);
    const pgUnique = failure('duplicate key value violates unique constraint', { code: '23505' });
    expect(storeFailure(pgUnique, 'PG')).toBe(pgUnique);
    const bug = new TypeError('x is undefined');
    expect(storeFailure(bug, 'PG')).toBe(bug);
    const already = SERVER_ERRORS.error('store_unusable', {}, { message: 'm' });
    expect(storeFailure(already, 'PG')).toBe(already);
    expect(storeFailure('text', 'PG')).toBe('text');
  });
});
