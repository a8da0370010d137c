// sluice's JSON log lines (pino, SLUICE_LOG_FORMAT=json) as the bench reads them from the edge
// and the server it starts.

/** One pino line: `msg`, `time` (ms since the epoch, this machine's clock) and its fields. */
export interface LogLine {
  readonly msg: string;
  readonly time: number;
  readonly [field: string]: unknown;
}

/** A parsed log line, or null for a line that is not a pino JSON object. */
export function parseLogLine(text: string): LogLine | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  if (typeof record.msg !== 'string' || typeof record.time !== 'number') return null;
  return record as LogLine;
}
