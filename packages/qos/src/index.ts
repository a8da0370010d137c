export * from './qos-layout.ts';
export { type BandwidthField, monotonicNs, NO_LIMITS, QosTable, type QosRejectReason } from './qos-table.ts';
export * from './token-bucket.ts';
