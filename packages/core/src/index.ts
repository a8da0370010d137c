export { CONNECT_ERROR_REASONS, CORE_ERRORS, type CoreErrorCode, type CoreErrorData, REJECT_REASONS } from './errors.ts';
export { connectErrorField, FIELD, rejectField } from './counters-layout.ts';
export { Counters } from './counters.ts';
export type { RuleState } from './rule-state.ts';
export {
  type ApplyResult,
  type LogFn,
  type RuleSnapshot,
  ShardSupervisor,
  type SupervisorOptions,
} from './shard-supervisor.ts';
