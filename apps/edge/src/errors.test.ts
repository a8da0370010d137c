import { readFileSync } from 'node:fs';
import { markdownTableAfter } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { EDGE_ERRORS, enrollRefused } from './errors.ts';

describe('the edge error table', () => {
  it('is the table docs/edge.md shows, code for code and exit code for exit code', () => {
    const doc = readFileSync(new URL('../../../docs/edge.md', import.meta.url), 'utf8');
    const rows = markdownTableAfter(doc, '### Enrollment and managed-mode errors');
    const documented = Object.fromEntries(
      rows.map(([code, exit]) => [code!.replace(/`/g, ''), Number(exit)]),
    );
    const table = Object.fromEntries(
      Object.entries(EDGE_ERRORS.table).map(([code, row]) => [code, row.exitCode]),
    );
    expect(documented).toEqual(table);
  });

  it('renders messages from the table and keeps the details', () => {
    const err = EDGE_ERRORS.error('bundle_insecure', { file: '/x', mode: '0644' });
    expect(err.message).toBe(
      '/x is readable by group or others (mode 0644); it holds the edge secret: chmod 600 /x',
    );
    expect(err.exitCode).toBe(2);
    expect(EDGE_ERRORS.is(err)).toBe(true);
    expect(err.toData()).toEqual({
      code: 'bundle_insecure',
      message: err.message,
      details: { file: '/x', mode: '0644' },
    });
  });

  it('gives a known enrollment refusal its own code and any other the generic one', () => {
    expect(enrollRefused('code_expired', 'at noon').code).toBe('code_expired');
    const other = enrollRefused('rate_limited', 'slow down');
    expect(other.code).toBe('enroll_refused');
    expect(other.message).toContain('rate_limited');
  });
});
