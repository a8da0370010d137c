// Durations as operators write them: `30s`, `10m`, `2h`, `7d`.

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration; throws RangeError naming the expected form. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})(s|m|h|d)$/.exec(text.trim());
  if (match === null)
    throw new RangeError(`${JSON.stringify(text)} is not a duration; use e.g. "30s", "10m", "2h" or "7d"`);
  return Number(match[1]) * UNITS[match[2]!]!;
}
