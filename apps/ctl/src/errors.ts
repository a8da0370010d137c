// sluicectl's error table: every code it can print, the server's API codes (docs/server-api.md)
// and its own, each with one exit code. A failed command prints `CODE: message` on stderr
// first and exits with the code's number, so a script can branch on either. CtlError is made
// from this table; docs/ctl.md lists the same numbers, and a test keeps the two in sync.

export const CTL_ERRORS = {
  // Raised by sluicectl itself.
  bad_usage: { exitCode: 2, source: 'ctl', when: 'a command, argument or flag is missing or malformed' },
  config_missing: {
    exitCode: 3,
    source: 'ctl',
    when: 'no server URL or no token (--server / SLUICE_SERVER, --token / SLUICE_TOKEN)',
  },
  server_unreachable: {
    exitCode: 4,
    source: 'ctl',
    when: 'the server could not be reached (refused, no route, unknown host, TLS failure)',
  },
  server_timeout: { exitCode: 5, source: 'ctl', when: 'the server did not answer within --timeout' },
  bad_response: {
    exitCode: 6,
    source: 'ctl',
    when: 'the server answered something that is not the sluice API (not JSON, wrong shape)',
  },
  stream_closed: {
    exitCode: 7,
    source: 'ctl',
    when: 'the server ended the stats stream of `rule-stats --watch`',
  },
  // Returned by the server's HTTP API as { error: { code, message } }.
  unauthorized: { exitCode: 10, source: 'api', when: 'no token, or an unknown / revoked token' },
  forbidden: { exitCode: 11, source: 'api', when: "the token's user may not do this" },
  bad_request: {
    exitCode: 12,
    source: 'api',
    when: 'the request did not validate; the message names the field',
  },
  not_found: { exitCode: 13, source: 'api', when: 'no such edge / rule / route' },
  port_in_use: { exitCode: 14, source: 'api', when: 'the rule overlaps another rule of the same edge' },
  name_taken: { exitCode: 15, source: 'api', when: 'an edge or rule name already used on that edge' },
  client_not_connected: { exitCode: 16, source: 'api', when: 'the edge has no control session now' },
  activation_failed: { exitCode: 17, source: 'api', when: 'the edge reported the rule failed' },
  ack_timeout: {
    exitCode: 18,
    source: 'api',
    when: 'the edge did not ack in time; the rule stays pending and is pushed again on reconnect',
  },
  edge_revoked: { exitCode: 19, source: 'api', when: 'pushing to a revoked edge' },
  internal: { exitCode: 20, source: 'api', when: 'a bug in the server' },
} as const satisfies Record<string, { exitCode: number; source: 'ctl' | 'api'; when: string }>;

export type CtlErrorCode = keyof typeof CTL_ERRORS;

/**
 * The exit code for anything outside the table: an API code this sluicectl does not know (a
 * newer server; the code is still printed as received) or a bug in sluicectl itself.
 */
export const UNKNOWN_ERROR_EXIT_CODE = 1;

export function isCtlErrorCode(code: string): code is CtlErrorCode {
  return Object.hasOwn(CTL_ERRORS, code);
}

/** The process exit code for an error code, known or not. */
export function exitCodeFor(code: string): number {
  return isCtlErrorCode(code) ? CTL_ERRORS[code].exitCode : UNKNOWN_ERROR_EXIT_CODE;
}

/** The form an error takes as data: what the API sends, and what sluicectl prints. */
export interface CtlErrorData {
  readonly code: string;
  readonly message: string;
}

export class CtlError extends Error {
  /** A code of the table, or an API code this sluicectl does not know, as the server sent it. */
  readonly code: string;
  readonly exitCode: number;

  private constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CtlError';
    this.code = code;
    this.exitCode = exitCodeFor(code);
  }

  /** An error of the table. */
  static of(code: CtlErrorCode, message: string, options?: ErrorOptions): CtlError {
    return new CtlError(code, message, options);
  }

  /** An error the API returned; its code is kept even when this sluicectl does not know it. */
  static fromApi(data: CtlErrorData): CtlError {
    return new CtlError(data.code, data.message);
  }

  toData(): CtlErrorData {
    return { code: this.code, message: this.message };
  }
}

/** The line printed on stderr, before anything else: `CODE: message`. */
export function errorLine(error: CtlErrorData): string {
  return `${error.code}: ${error.message}`;
}
