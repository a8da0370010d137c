// The buckets traffic history keeps: each width (the API's TRAFFIC_BUCKETS) with how long its
// buckets are kept. A report's bytes land in the bucket of each width that holds the time the
// report arrived.

import { TRAFFIC_BUCKETS } from '@sluice/api';

const DAY_MS = 86_400_000;

export interface TrafficBucketKind {
  readonly widthMs: number;
  /** Buckets that started longer ago than this are pruned. */
  readonly keepMs: number;
}

export const TRAFFIC_BUCKET_KINDS: readonly TrafficBucketKind[] = [
  { widthMs: TRAFFIC_BUCKETS['1m'], keepMs: 7 * DAY_MS },
  { widthMs: TRAFFIC_BUCKETS['1h'], keepMs: 400 * DAY_MS },
];

/** The start of the bucket of width `widthMs` that holds `at` (epoch ms). */
export function bucketStart(at: number, widthMs: number): number {
  return Math.floor(at / widthMs) * widthMs;
}
