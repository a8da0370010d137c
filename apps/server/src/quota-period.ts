// The monthly periods of a quota: each starts on the anchor's day of the month at the anchor's
// time (UTC), and ends where the next starts. An anchor on the 29th to 31st starts the short
// months on their last day. Pure, so the boundaries are tested without waiting a month.

export interface QuotaPeriod {
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive: the next period's start. */
  readonly end: number;
}

/** The start of the period `months` after the one that starts at `anchor`. */
export function periodStart(anchor: number, months: number): number {
  const a = new Date(anchor);
  const monthIndex = a.getUTCMonth() + months;
  const year = a.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(a.getUTCDate(), lastDay),
    a.getUTCHours(),
    a.getUTCMinutes(),
    a.getUTCSeconds(),
    a.getUTCMilliseconds(),
  );
}

/** The period that holds `now` (which may be before the anchor: periods run both ways). */
export function periodAt(anchor: number, now: number): QuotaPeriod {
  const a = new Date(anchor);
  const n = new Date(now);
  let months = (n.getUTCFullYear() - a.getUTCFullYear()) * 12 + (n.getUTCMonth() - a.getUTCMonth());
  // The month count is right or one too many (now is before this month's anchor day and time).
  if (periodStart(anchor, months) > now) months--;
  return { start: periodStart(anchor, months), end: periodStart(anchor, months + 1) };
}

/** The default anchor: the first of the month that holds `now`, 00:00 UTC. */
export function monthStart(now: number): number {
  const n = new Date(now);
  return Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), 1);
}
