// The server's error table: one stable snake_case code per way a request, a command or a start
// can fail, with the HTTP status the API answers with and the exit code the CLI ends with.
// ServerError is made from this table, so the API body, the CLI's first line and the logs all
// carry the same code. The API codes are the contract of docs/server-api.md; the others are
// the CLI's (serve, backup, restore).

export const SERVER_ERRORS = {
  // The operator HTTP API (docs/server-api.md).
  unauthorized: { status: 401, exitCode: 10, summary: 'no token, or an unknown or revoked token' },
  forbidden: { status: 403, exitCode: 11, summary: 'this token may not do this' },
  bad_request: { status: 400, exitCode: 12, summary: 'the request does not validate' },
  not_found: { status: 404, exitCode: 13, summary: 'no such edge, rule or route' },
  port_in_use: { status: 409, exitCode: 14, summary: 'the rule overlaps another rule of the same edge' },
  name_taken: { status: 409, exitCode: 15, summary: 'the name is already used' },
  client_not_connected: { status: 422, exitCode: 16, summary: 'the edge has no control session now' },
  activation_failed: { status: 422, exitCode: 17, summary: 'the edge reported the rule failed' },
  ack_timeout: { status: 504, exitCode: 18, summary: 'the edge did not ack within the budget' },
  edge_revoked: { status: 409, exitCode: 19, summary: 'the edge is revoked' },
  internal: { status: 500, exitCode: 1, summary: 'a bug in sluice-server' },
  // The CLI and start-up.
  usage: { status: 400, exitCode: 2, summary: 'the command line is wrong' },
  config_invalid: { status: 400, exitCode: 2, summary: 'the server config does not validate' },
  data_dir_unusable: { status: 500, exitCode: 3, summary: 'the data dir cannot be made or read' },
  key_insecure: { status: 500, exitCode: 4, summary: 'the server key is readable by group or others' },
  certificate_invalid: { status: 500, exitCode: 4, summary: 'the server certificate or key cannot be read' },
  store_in_use: { status: 500, exitCode: 5, summary: 'another sluice-server uses this data dir' },
  schema_too_new: { status: 500, exitCode: 6, summary: 'the database was written by a newer sluice-server' },
  data_dir_not_empty: { status: 500, exitCode: 7, summary: 'the data dir already holds a database' },
  backup_failed: { status: 500, exitCode: 8, summary: 'the backup could not be written' },
  restore_failed: { status: 500, exitCode: 8, summary: 'the backup could not be restored' },
  store_unusable: { status: 500, exitCode: 8, summary: 'the database cannot be opened' },
  listen_failed: { status: 500, exitCode: 9, summary: 'a listener could not bind its address' },
} as const;

export type ServerErrorCode = keyof typeof SERVER_ERRORS;

/** The form an error takes in an API body, a log line, or between processes. */
export interface ServerErrorData {
  readonly code: ServerErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly status: number;
  readonly exitCode: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ServerErrorCode,
    message: string = SERVER_ERRORS[code].summary,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServerError';
    this.code = code;
    this.status = SERVER_ERRORS[code].status;
    this.exitCode = SERVER_ERRORS[code].exitCode;
    this.details = details;
  }

  toData(): ServerErrorData {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }

  /** The API's error body. */
  toBody(): { error: { code: ServerErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isServerErrorCode(code: string): code is ServerErrorCode {
  return Object.hasOwn(SERVER_ERRORS, code);
}
