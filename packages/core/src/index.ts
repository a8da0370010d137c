export {
  ACCEPT_ERROR_REASONS,
  acceptErrorField,
  CONNECT_ERROR_REASONS,
  Counters,
  connectErrorField,
  FIELD,
  REJECT_REASONS,
  RELAY_ERROR_REASONS,
  rejectField,
  relayErrorField,
  SlotChanges,
} from '@sluice/counters';
export { DNS_ERRORS } from './dns-errors.ts';
export { CORE_ERRORS, type CoreErrorCode, type CoreErrorData } from './errors.ts';
export type { LogFn } from './log-fn.ts';
export { PROXY_HEADER_ERRORS } from './proxy-protocol/index.ts';
export { type RelayPathName, relayPathName } from './relay-select.ts';
export type { ApplyResult, RuleSlot, RuleSnapshot } from './rule-reconciler.ts';
export type { RuleState } from './rule-record.ts';
export { ShardSupervisor, type SupervisorOptions } from './shard-supervisor.ts';
