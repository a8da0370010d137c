// The iperf3 wrapper's error table: one stable code per way driving iperf3 can fail. What
// crosses a thread or process boundary (or lands in a report) is the error's data, never the
// instance.

import { defineErrors, type SluiceError, type SluiceErrorData } from '@sluice/errors';

export const IPERF3_ERRORS = defineErrors('iperf3', {
  iperf3_missing: { message: 'iperf3 is not installed ({install})' },
  iperf3_bad_option: { message: '{option}: {reason}' },
  iperf3_server_failed: { message: 'iperf3 server on port {port} failed: {reason}' },
  iperf3_client_failed: { message: 'iperf3 client failed: {reason}' },
  iperf3_bad_output: { message: 'iperf3 -J output is not what was expected: {reason}' },
  iperf3_timeout: { message: 'iperf3 {role} did not finish within {ms} ms' },
});

export type Iperf3ErrorCode = (typeof IPERF3_ERRORS.codes)[number];
export type Iperf3Error = SluiceError<Iperf3ErrorCode>;
export type Iperf3ErrorData = SluiceErrorData<Iperf3ErrorCode>;

/** What the error messages suggest when iperf3 is not on this host: `./run` installs it. */
export const IPERF3_INSTALL_HINT = './run bench installs it, or: apt-get install -y iperf3';
