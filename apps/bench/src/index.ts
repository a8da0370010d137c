// What other workspace packages (and the gates) may use of the bench.

export type { Contender, RelayKind, RunningContender, StartOptions } from './contender.ts';
export { CONTENDER_IDS, CONTENDERS } from './contenders/index.ts';
export { BENCH_ERRORS, type BenchError, type BenchErrorCode, type RunError } from './errors.ts';
export type { BenchOptions, BenchReport, ContenderEntry } from './report.ts';
export { renderMarkdown } from './report-markdown.ts';
export type { ConnectRateReport } from './scenarios/connect-rate.ts';
export type { HttpMetric, HttpReport } from './scenarios/http.ts';
export type {
  IdleCount,
  IdleMemoryReport,
  IdleMemoryRow,
  IdleReading,
  IdleRun,
} from './scenarios/idle-memory.ts';
export type { MatrixResult, MatrixRow, MatrixRun, NotApplicable } from './scenarios/matrix.ts';
export type { ParallelReport } from './scenarios/parallel.ts';
export { FULL_PLAN, QUICK_PLAN, type ScenarioPlan } from './scenarios/plan.ts';
export { SCENARIO_IDS, type ScenarioId, type ScenarioReports } from './scenarios/registry.ts';
export type { ScenarioStep } from './scenarios/scenario.ts';
export type {
  CountedDetail,
  LatencyMetric,
  MessagePoint,
  SmallMessagesReport,
} from './scenarios/small-messages.ts';
export type { SweepMetric, SweepReport } from './scenarios/sweep.ts';
export type { ThroughputReport, ThroughputRow, ThroughputRun } from './scenarios/throughput.ts';
export type { UdpMetric, UdpReport } from './scenarios/udp.ts';
export { median, ratio, type Summary, summarize } from './stats.ts';
