// The bench's error table: one stable code per way a bench step can fail, with the message
// template and the exit code when it ends the run. What lands in the JSON report is a RunError
// (code and message); errors of the iperf3 wrapper keep their own codes (@sluice/iperf3's table).

import { defineErrors, type SluiceError } from '@sluice/errors';
import { IPERF3_ERRORS, type Iperf3ErrorCode } from '@sluice/iperf3';

export const BENCH_ERRORS = defineErrors('bench', {
  bad_flag: { message: '{flag}: {reason}', exitCode: 2 },
  tool_missing: { message: '{tool} is not installed ({install})', exitCode: 3 },
  contender_start_failed: { message: '{contender} did not start: {reason}', exitCode: 1 },
  idle_connections_failed: { message: 'idle connections through {contender}: {reason}', exitCode: 1 },
  memory_unreadable: { message: 'the memory of {subject}: {reason}', exitCode: 1 },
  load_failed: { message: '{scenario} load through {contender}: {reason}', exitCode: 1 },
  target_failed: { message: 'the {target} target did not start: {reason}', exitCode: 1 },
  timeout: { message: 'timed out after {ms} ms waiting for {what}', exitCode: 1 },
  gates_file_invalid: { message: 'gates file {file}: {reason}', exitCode: 2 },
  gate_suite_failed: { message: 'the gate suite produced no report: {reason}', exitCode: 1 },
});

export type BenchErrorCode = (typeof BENCH_ERRORS.codes)[number];
export type BenchError = SluiceError<BenchErrorCode>;

/** How a failed run shows in the report. */
export interface RunError {
  readonly code: BenchErrorCode | Iperf3ErrorCode | 'internal';
  readonly message: string;
}

/** Any thrown value as data for the report: a bench or iperf3 error keeps its code, the rest is `internal`. */
export function errorData(err: unknown): RunError {
  if (BENCH_ERRORS.is(err) || IPERF3_ERRORS.is(err)) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
