// The bench's error table: one stable code per way a bench step can fail, with the message
// template and the exit code when it ends the run. BenchError is made from this table; what
// crosses a process boundary or lands in the JSON report is BenchErrorData. Errors of the
// iperf3 wrapper keep their own codes (@sluice/iperf3's table) in the report.

import { type Iperf3ErrorCode, isIperf3Error } from '@sluice/iperf3';

export const BENCH_ERRORS = {
  bad_flag: { message: '{flag}: {reason}', exitCode: 2 },
  tool_missing: { message: '{tool} is not installed ({install})', exitCode: 3 },
  contender_start_failed: { message: '{contender} did not start: {reason}', exitCode: 1 },
  idle_connections_failed: { message: 'idle connections through {contender}: {reason}', exitCode: 1 },
  load_failed: { message: '{scenario} load through {contender}: {reason}', exitCode: 1 },
  target_failed: { message: 'the {target} target did not start: {reason}', exitCode: 1 },
  timeout: { message: 'timed out after {ms} ms waiting for {what}', exitCode: 1 },
  gates_file_invalid: { message: 'gates file {file}: {reason}', exitCode: 2 },
  gate_suite_failed: { message: 'the gate suite produced no report: {reason}', exitCode: 1 },
} as const;

export type BenchErrorCode = keyof typeof BENCH_ERRORS;

export interface BenchErrorData {
  readonly code: BenchErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, string | number>>;
}

function render(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) =>
    key in values ? String(values[key]) : `{${key}}`,
  );
}

export class BenchError extends Error {
  readonly code: BenchErrorCode;
  readonly details: Readonly<Record<string, string | number>>;
  readonly exitCode: number;

  constructor(code: BenchErrorCode, details: Record<string, string | number>) {
    super(render(BENCH_ERRORS[code].message, details));
    this.name = 'BenchError';
    this.code = code;
    this.details = details;
    this.exitCode = BENCH_ERRORS[code].exitCode;
  }

  toData(): BenchErrorData {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** How a failed run shows in the report. */
export interface RunError {
  readonly code: BenchErrorCode | Iperf3ErrorCode | 'internal';
  readonly message: string;
}

/** Any thrown value as data for the report: a BenchError keeps its code, the rest is `internal`. */
export function errorData(err: unknown): RunError {
  if (err instanceof BenchError || isIperf3Error(err)) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
