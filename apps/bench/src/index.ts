// What other workspace packages (and the gates to come) may use of the bench.

export type { Contender, RelayKind, RunningContender } from './contender.ts';
export { CONTENDER_IDS, CONTENDERS } from './contenders/index.ts';
export { BENCH_ERRORS, BenchError, type BenchErrorCode, type BenchErrorData } from './errors.ts';
export { type Iperf3TcpResult, parseIperf3TcpResult } from './iperf3-result.ts';
export type { BenchOptions, BenchReport, ContenderEntry } from './report.ts';
export { renderMarkdown } from './report-markdown.ts';
export type { IdleMemoryReport, IdleMemoryRow } from './scenarios/idle-memory.ts';
export type { ThroughputReport, ThroughputRow, ThroughputRun } from './scenarios/throughput.ts';
export { median, ratio, type Summary, summarize } from './stats.ts';
