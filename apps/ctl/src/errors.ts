// sluicectl's errors: its own codes in its table, and the server's API codes from @sluice/api's
// table, each with one exit code. A failed command prints `CODE: message` on stderr first and
// exits with the code's number, so a script can branch on either. docs/ctl.md lists the same
// rows, and a test keeps the two in sync.

import { API_ERRORS } from '@sluice/api';
import { defineErrors, SluiceError } from '@sluice/errors';
import { paintError } from './color.ts';

export const CTL_ERRORS = defineErrors('ctl', {
  bad_usage: { message: 'a command, argument or flag is missing or malformed', exitCode: 2 },
  config_missing: {
    message: 'no server URL or no token (--server / SLUICE_SERVER, --token / SLUICE_TOKEN)',
    exitCode: 3,
  },
  server_unreachable: {
    message: 'the server could not be reached (refused, no route, unknown host, TLS failure)',
    exitCode: 4,
  },
  server_timeout: { message: 'the server did not answer within --timeout', exitCode: 5 },
  bad_response: {
    message: 'the server answered something that is not the sluice API (not JSON, wrong shape)',
    exitCode: 6,
  },
  stream_closed: { message: 'the server ended the stats stream of `rule-stats --watch`', exitCode: 7 },
});

export type CtlErrorCode = (typeof CTL_ERRORS.codes)[number];

/**
 * The exit code for anything outside the tables: an API code this sluicectl does not know (a
 * newer server; the code is still printed as received) or a bug in sluicectl itself.
 */
export const UNKNOWN_ERROR_EXIT_CODE = 1;

/** An error of sluicectl's own, with the sentence about this case. */
export function ctlError(code: CtlErrorCode, message: string, cause?: unknown): SluiceError<CtlErrorCode> {
  return CTL_ERRORS.error(code, {}, { message, ...(cause === undefined ? {} : { cause }) });
}

/** An error the API answered; its code is kept even when this sluicectl does not know it. */
export function apiFailure(data: { readonly code: string; readonly message: string }): SluiceError {
  if (API_ERRORS.isCode(data.code)) return API_ERRORS.error(data.code, {}, { message: data.message });
  return new SluiceError(API_ERRORS.area, data.code, { message: data.message }, {}, data.message);
}

/** Whether a caught value is a failure sluicectl reports by its code: its own or the API's. */
export function isReported(value: unknown): value is SluiceError {
  return CTL_ERRORS.is(value) || (value instanceof SluiceError && value.area === API_ERRORS.area);
}

/** The process exit code for an error code, known or not. */
export function exitCodeFor(code: string): number {
  if (CTL_ERRORS.isCode(code)) return CTL_ERRORS.table[code].exitCode;
  if (API_ERRORS.isCode(code)) return API_ERRORS.table[code].exitCode;
  return UNKNOWN_ERROR_EXIT_CODE;
}

/** Every code sluicectl may print, its own first, as docs/ctl.md lists them. */
export const EXIT_CODES: readonly {
  readonly code: string;
  readonly exitCode: number;
  readonly when: string;
}[] = [CTL_ERRORS, API_ERRORS].flatMap((errors) =>
  Object.entries(errors.table).map(([code, row]) => ({ code, exitCode: row.exitCode, when: row.message })),
);

/** The line printed on stderr, before anything else: `CODE: message`, the code in red at a terminal. */
export function errorLine(error: { readonly code: string; readonly message: string }, color = false): string {
  return `${paintError(error.code, color)}: ${error.message}`;
}
