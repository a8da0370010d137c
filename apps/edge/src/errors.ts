// The edge's error table for enrollment and managed mode: one stable code per way they can fail,
// with the message template and the exit code when it ends the process. The CLI prints
// `code: message` first, and the logs carry the same code. Config file errors keep their own
// table (@sluice/config's CONFIG_ERRORS). docs/edge.md lists these codes and exit codes (a test
// checks it), and docs/errors.md is generated from EDGE_ERRORS.table.

import { defineErrors, type SluiceError } from '@sluice/errors';

export const EDGE_ERRORS = defineErrors('edge', {
  usage: { message: '{reason}', exitCode: 2 },
  enroll_uri_invalid: {
    message:
      'the enrollment URI is not valid: {reason} (expected sluice://HOST:PORT[,HOST:PORT...]/enroll?pin=SHA256&code=CODE)',
    exitCode: 2,
  },
  bundle_exists: {
    message: '{file} already exists; pass --force to replace it, or --bundle another file',
    exitCode: 2,
  },
  bundle_unwritable: { message: '{file}: cannot write the bundle: {reason}', exitCode: 2 },
  bundle_unreadable: { message: '{file}: cannot read the bundle: {reason}', exitCode: 2 },
  bundle_invalid: { message: '{file}: not a sluice-edge bundle: {reason}', exitCode: 2 },
  bundle_insecure: {
    message:
      '{file} is readable by group or others (mode {mode}); it holds the edge secret: chmod 600 {file}',
    exitCode: 2,
  },
  server_unreachable: { message: 'cannot reach the server at {server}: {reason}', exitCode: 3 },
  pin_mismatch: {
    message:
      'the server at {server} presented a certificate with fingerprint {seen}, not the pinned {pin}; nothing was sent (wrong URI or bundle, or someone in between)',
    exitCode: 3,
  },
  timeout: { message: 'no answer from the server at {server} within {ms} ms', exitCode: 3 },
  protocol_error: { message: 'the server at {server} broke the protocol: {reason}', exitCode: 3 },
  server_closed: { message: 'the server at {server} closed the connection before answering', exitCode: 3 },
  // Enrollment refused by the server (the code it sent).
  code_unknown: { message: 'the enrollment code is not known to the server: {message}', exitCode: 4 },
  code_used: { message: 'the enrollment code was already used: {message}', exitCode: 4 },
  code_expired: { message: 'the enrollment code has expired: {message}', exitCode: 4 },
  code_superseded: { message: 'a newer enrollment code was made for this edge: {message}', exitCode: 4 },
  enroll_refused: { message: 'the server refused the enrollment ({code}): {message}', exitCode: 4 },
  // Managed mode: hello refused. edge_revoked ends the process (see docs/edge.md); the others
  // are logged and retried.
  edge_revoked: { message: 'this edge was revoked on the server: {message}', exitCode: 5 },
  // Standalone and managed: the metrics listener cannot bind (the rules were not started).
  metrics_listen_failed: { message: 'cannot serve /metrics on {address}: {reason}', exitCode: 6 },
  // Standalone and managed: max_connections the descriptor limit cannot hold (nothing started).
  max_connections_over_limit: {
    message:
      '{where}: max_connections = {max} needs at least {needed} descriptors (two sockets per connection), but the descriptor limit (RLIMIT_NOFILE) is {limit}; lower max_connections, or raise the limit (ulimit -n, systemd LimitNOFILE=)',
    exitCode: 2,
  },
});

export type EdgeErrorCode = (typeof EDGE_ERRORS.codes)[number];

/** An error raised from the table above (`EDGE_ERRORS.error(code, details)`). */
export type EdgeError = SluiceError<EdgeErrorCode>;

const ENROLL_REFUSALS = new Set<string>(['code_unknown', 'code_used', 'code_expired', 'code_superseded']);

/** The error for an enrollment the server refused: its own code when the table knows it. */
export function enrollRefused(code: string, message: string): EdgeError {
  return ENROLL_REFUSALS.has(code) && EDGE_ERRORS.isCode(code)
    ? EDGE_ERRORS.error(code, { message })
    : EDGE_ERRORS.error('enroll_refused', { code, message });
}
