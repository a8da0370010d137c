// sluice's JSON log lines (pino, SLUICE_LOG_FORMAT=json) as the bench reads them from the edge
// and the server it starts.

import { parseLogLine as parseJsonLogLine } from '@sluice/test-kit';

/** One pino line: `msg`, `time` (ms since the epoch, this machine's clock) and its fields. */
export interface LogLine {
  readonly msg: string;
  readonly time: number;
  readonly [field: string]: unknown;
}

/** A parsed log line, or null for a line that is not a pino JSON object with `msg` and `time`. */
export function parseLogLine(text: string): LogLine | null {
  const line = parseJsonLogLine(text);
  if (line === null || line.msg === '' || typeof line.time !== 'number') return null;
  return { ...line, time: line.time };
}
