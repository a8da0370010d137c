export * from './counter-reasons.ts';
export { Counters } from './counters.ts';
export * from './counters-layout.ts';
export { SlotChanges } from './slot-changes.ts';
