// Times in the API are ISO 8601 strings in UTC (`2026-03-01T12:00:00.000Z`).

import { z } from 'zod';

export const timestampSchema = z.iso.datetime();

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** A time that may not have happened yet (an edge that never connected). */
export function isoTimeOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}
