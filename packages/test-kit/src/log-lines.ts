// The JSON log lines sluice's binaries write (pino: one object per line with `msg`, `time` in
// ms since the epoch, and the fields of the event), read back by tests and the bench.

/** One log line: its fields, `msg` ('' when it has none) and the line as written. */
export interface LogLine {
  readonly msg: string;
  readonly raw: string;
  readonly [field: string]: unknown;
}

/** The line as a LogLine, or null when it is not a JSON object (a stack trace, a banner). */
export function parseLogLine(text: string): LogLine | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  return { ...record, msg: typeof record.msg === 'string' ? record.msg : '', raw: text };
}

/** Whether `line` has this `msg` and every field of `fields` (compared with ===). */
export function logMatches(
  line: LogLine,
  msg: string,
  fields: Readonly<Record<string, unknown>> = {},
): boolean {
  return line.msg === msg && Object.entries(fields).every(([key, value]) => line[key] === value);
}
