// The iperf3 wrapper's error table: one stable code per way driving iperf3 can fail, with the
// message template and its kind. Iperf3Error is made from this table; what crosses a thread or
// process boundary (or lands in a report) is Iperf3ErrorData.

export const IPERF3_ERRORS = {
  iperf3_missing: {
    message: 'iperf3 is not installed ({install})',
    kind: 'environment',
  },
  iperf3_bad_option: {
    message: '{option}: {reason}',
    kind: 'usage',
  },
  iperf3_server_failed: {
    message: 'iperf3 server on port {port} failed: {reason}',
    kind: 'run',
  },
  iperf3_client_failed: {
    message: 'iperf3 client failed: {reason}',
    kind: 'run',
  },
  iperf3_bad_output: {
    message: 'iperf3 -J output is not what was expected: {reason}',
    kind: 'output',
  },
  iperf3_timeout: {
    message: 'iperf3 {role} did not finish within {ms} ms',
    kind: 'run',
  },
} as const;

export type Iperf3ErrorCode = keyof typeof IPERF3_ERRORS;
export type Iperf3ErrorKind = (typeof IPERF3_ERRORS)[Iperf3ErrorCode]['kind'];
export type Iperf3ErrorDetails = Readonly<Record<string, string | number>>;

/** The form an Iperf3Error takes when it crosses a thread or process boundary. */
export interface Iperf3ErrorData {
  readonly code: Iperf3ErrorCode;
  readonly message: string;
  readonly details: Iperf3ErrorDetails;
}

/** What the error messages suggest when iperf3 is not on this host. */
export const IPERF3_INSTALL_HINT = 'apt-get install -y iperf3';

function render(template: string, values: Iperf3ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) =>
    key in values ? String(values[key]) : `{${key}}`,
  );
}

export class Iperf3Error extends Error {
  readonly code: Iperf3ErrorCode;
  readonly kind: Iperf3ErrorKind;
  readonly details: Iperf3ErrorDetails;

  constructor(code: Iperf3ErrorCode, details: Iperf3ErrorDetails) {
    super(render(IPERF3_ERRORS[code].message, details));
    this.name = 'Iperf3Error';
    this.code = code;
    this.kind = IPERF3_ERRORS[code].kind;
    this.details = details;
  }

  toData(): Iperf3ErrorData {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isIperf3Error(err: unknown): err is Iperf3Error {
  return err instanceof Iperf3Error;
}
