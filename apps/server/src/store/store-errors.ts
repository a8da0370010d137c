// The store's boundary for failures of the database itself rather than of the request: a
// PostgreSQL server that is down, restarting or unreachable, a pool that cannot hand out a
// connection, an SQLite file that is locked, on a full disk or failing I/O. Each becomes
// store_unavailable, once, naming the backend and the cause; everything else (a constraint
// violation, a bug) passes through unchanged.

import { SluiceError } from '@sluice/errors';
import { SERVER_ERRORS } from '../errors.ts';

/** Node's socket errors that mean the database cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** PostgreSQL SQLSTATEs: admin_shutdown, crash_shutdown, cannot_connect_now; class 08 is connection exceptions. */
const PG_STATES = new Set(['57P01', '57P02', '57P03']);

/** What node-postgres says when its socket or pool gives out, without a code. */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection closed',
];

/** SQLite primary result codes: BUSY, LOCKED, IOERR, FULL. */
const SQLITE_CODES = new Set([5, 6, 10, 13]);

function unavailableCause(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || PG_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) {
      return `${code}: ${error.message}`;
    }
    if (code === 'ERR_SQLITE_ERROR') {
      const errcode = (error as { errcode?: unknown }).errcode;
      // The extended code's low byte is the primary code (SQLITE_IOERR_WRITE is IOERR).
      if (typeof errcode === 'number' && SQLITE_CODES.has(errcode & 0xff)) return error.message;
    }
  }
  if (PG_MESSAGES.some((text) => error.message.includes(text))) return error.message;
  // Several addresses tried at once (localhost as ::1 and 127.0.0.1) fail as one AggregateError.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const cause = unavailableCause(inner);
      if (cause !== null) return cause;
    }
  }
  return null;
}

/** `error` as store_unavailable when the database could not be used, else `error` itself. */
export function storeFailure(error: unknown, backend: string): unknown {
  if (error instanceof SluiceError) return error;
  const cause = unavailableCause(error);
  if (cause === null) return error;
  return SERVER_ERRORS.error(
    'store_unavailable',
    {},
    { message: `${backend} is unavailable: ${cause}`, cause: error },
  );
}
