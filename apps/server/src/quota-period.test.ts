import { describe, expect, it } from 'vitest';
import { monthStart, periodAt, periodStart } from './quota-period.ts';

const t = (iso: string) => Date.parse(iso);

describe('quota periods', () => {
  it('start on the anchor day and time each month, and end where the next starts', () => {
    const anchor = t('2026-01-15T06:30:00Z');
    expect(periodAt(anchor, t('2026-03-20T00:00:00Z'))).toEqual({
      start: t('2026-03-15T06:30:00Z'),
      end: t('2026-04-15T06:30:00Z'),
    });
    // Just before the anchor time on the anchor day: still the previous period.
    expect(periodAt(anchor, t('2026-03-15T06:29:59.999Z')).start).toBe(t('2026-02-15T06:30:00Z'));
    expect(periodAt(anchor, t('2026-03-15T06:30:00Z')).start).toBe(t('2026-03-15T06:30:00Z'));
  });

  it('clamp an anchor on the 31st to the last day of shorter months', () => {
    const anchor = t('2026-01-31T00:00:00Z');
    expect(periodStart(anchor, 1)).toBe(t('2026-02-28T00:00:00Z'));
    expect(periodStart(anchor, 2)).toBe(t('2026-03-31T00:00:00Z'));
    expect(periodStart(anchor, 13)).toBe(t('2027-02-28T00:00:00Z'));
    expect(periodAt(anchor, t('2026-03-01T00:00:00Z'))).toEqual({
      start: t('2026-02-28T00:00:00Z'),
      end: t('2026-03-31T00:00:00Z'),
    });
  });

  it('run before the anchor too, across a year', () => {
    const anchor = t('2026-02-10T00:00:00Z');
    expect(periodAt(anchor, t('2025-12-25T00:00:00Z'))).toEqual({
      start: t('2025-12-10T00:00:00Z'),
      end: t('2026-01-10T00:00:00Z'),
    });
    expect(periodStart(anchor, -2)).toBe(t('2025-12-10T00:00:00Z'));
  });

  it('default to the first of the month', () => {
    expect(monthStart(t('2026-12-04T05:40:00Z'))).toBe(t('2026-12-01T00:00:00Z'));
  });
});
