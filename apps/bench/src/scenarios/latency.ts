// Latency percentiles from HdrHistograms: each load-generator worker records into its own
// histogram (µs, 3 significant digits) and sends it back encoded; the scenario adds them up and
// reads p50 / p99 / p99.9. Pure, so the percentile math is tested on known values.

import hdr from 'hdr-histogram-js';

/** 1 µs to 60 s at 3 significant digits: any round trip on loopback fits. */
const HIGHEST_US = 60_000_000;

export type LatencyHistogram = ReturnType<typeof hdr.build>;

export function newLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records `us`, clamped into the trackable range. */
export function recordMicros(histogram: LatencyHistogram, us: number): void {
  histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(us))));
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** The sum of encoded histograms (as the workers sent them). */
export function mergeHistograms(encoded: readonly string[]): LatencyHistogram {
  const total = newLatencyHistogram();
  for (const text of encoded) total.add(hdr.decodeFromCompressedBase64(text));
  return total;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly meanUs: number;
  readonly maxUs: number;
}

/** p50 / p99 / p99.9 (the value at or below which that share of samples fall); null when empty. */
export function latencySummary(histogram: LatencyHistogram): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  return {
    count: histogram.totalCount,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    p999Us: histogram.getValueAtPercentile(99.9),
    meanUs: histogram.mean,
    maxUs: histogram.maxValue,
  };
}

/** Completed operations per second over a window. */
export function perSecond(completed: number, windowMs: number): number {
  if (windowMs <= 0) throw new RangeError('the window must be positive');
  return (completed * 1000) / windowMs;
}
