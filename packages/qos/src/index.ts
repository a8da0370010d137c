export * from './qos-layout.ts';
export { type BandwidthField, monotonicNs, NO_LIMITS, type QosRejectReason, QosTable } from './qos-table.ts';
export * from './quota-budget.ts';
export * from './token-bucket.ts';
