// sluice-server's own errors: what ends a command or a start (serve, backup, restore, user),
// each with the exit code the CLI ends with. The API's codes are the one table of @sluice/api;
// a command that meets one (`user add` of a taken name) exits with its exit code too, and a
// crash prints `internal` and exits with that row's code.

import { API_ERRORS, type ApiErrorCode } from '@sluice/api';
import { defineErrors, type SluiceError } from '@sluice/errors';

export const SERVER_ERRORS = defineErrors('server', {
  usage: { message: 'the command line is wrong', exitCode: 2 },
  config_invalid: { message: 'the server config does not validate', exitCode: 2 },
  data_dir_unusable: { message: 'the data dir cannot be made or read', exitCode: 3 },
  key_insecure: { message: 'the server key is readable by group or others', exitCode: 4 },
  certificate_invalid: { message: 'the server certificate or key cannot be read', exitCode: 4 },
  store_in_use: { message: 'another sluice-server uses this data dir', exitCode: 5 },
  schema_too_new: { message: 'the database was written by a newer sluice-server', exitCode: 6 },
  data_dir_not_empty: { message: 'the data dir already holds a database', exitCode: 7 },
  backup_failed: { message: 'the backup could not be written', exitCode: 8 },
  restore_failed: { message: 'the backup could not be restored', exitCode: 8 },
  store_unusable: { message: 'the database cannot be opened', exitCode: 8 },
  store_empty: {
    message: 'the data dir was set up before but its database is missing or empty',
    exitCode: 8,
  },
  // The API answers it as its own store_unavailable (503), with the same exit code.
  store_unavailable: { message: 'the database cannot be reached now', exitCode: 25 },
  listen_failed: { message: 'a listener could not bind its address', exitCode: 9 },
  migrate_failed: { message: 'the store could not be moved to PostgreSQL', exitCode: 8 },
});

export type ServerErrorCode = (typeof SERVER_ERRORS.codes)[number];

/** An error of the server's own table, with the sentence about this case. */
export function serverError(code: ServerErrorCode, message: string): SluiceError<ServerErrorCode> {
  return SERVER_ERRORS.error(code, {}, { message });
}

/** An API error (@sluice/api's table), with the sentence the client reads. */
export function apiError(code: ApiErrorCode, message: string): SluiceError<ApiErrorCode> {
  return API_ERRORS.error(code, {}, { message });
}
