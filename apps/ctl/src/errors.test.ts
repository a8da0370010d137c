import { readFileSync } from 'node:fs';
import { API_ERRORS } from '@sluice/api';
import { markdownTableAfter } from '@sluice/test-kit';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeFailure, UNEXPECTED } from './cli.ts';
import {
  apiFailure,
  CTL_ERRORS,
  ctlError,
  EXIT_CODES,
  errorLine,
  exitCodeFor,
  isReported,
  UNKNOWN_ERROR_EXIT_CODE,
} from './errors.ts';

function readDoc(name: string): string {
  return readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
}

function unquote(cell: string): string {
  return cell.replace(/^`|`$/g, '');
}

describe('the error table', () => {
  it('gives every code its own exit code, none of them 0 or the unknown-code 1', () => {
    const codes = EXIT_CODES.map((entry) => entry.exitCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain(0);
    expect(codes).not.toContain(UNKNOWN_ERROR_EXIT_CODE);
    for (const code of codes) expect(code).toBeLessThan(126); // 126+ mean "not run" / signals to shells
  });

  it('holds every API error code of docs/server-api.md', () => {
    const apiCodes = markdownTableAfter(readDoc('server-api.md'), '## HTTP API').map((row) =>
      unquote(row[0]!),
    );
    expect(apiCodes.length).toBeGreaterThan(10);
    for (const code of apiCodes) expect(exitCodeFor(code), code).not.toBe(UNKNOWN_ERROR_EXIT_CODE);
    expect([...API_ERRORS.codes].sort()).toEqual([...apiCodes].sort());
    const ours = EXIT_CODES.map((entry) => entry.code);
    for (const code of API_ERRORS.codes) expect(ours).toContain(code);
  });

  it('is the table of docs/ctl.md', () => {
    const rows = markdownTableAfter(readDoc('ctl.md'), '## Errors and exit codes');
    const documented = rows.map((row) => ({
      code: unquote(row[0]!),
      exitCode: Number(row[1]),
      when: row[2],
    }));
    expect(documented).toEqual(EXIT_CODES);
  });
});

describe('errors', () => {
  it('take their exit code from the table', () => {
    const error = ctlError('server_timeout', 'no answer in 0.3 s');
    expect(error.code).toBe('server_timeout');
    expect(error.exitCode).toBe(5);
    expect(errorLine(error)).toBe('server_timeout: no answer in 0.3 s');
    expect(error.toData()).toEqual({ code: 'server_timeout', message: 'no answer in 0.3 s', details: {} });
    expect(isReported(error)).toBe(true);
    expect(isReported(new Error('server_timeout'))).toBe(false);
  });

  it.each(EXIT_CODES.map((entry) => [entry.code, entry.exitCode] as const))(
    'maps the code %s to exit %o',
    (code, exitCode) => {
      expect(exitCodeFor(code)).toBe(exitCode);
    },
  );

  it.each(API_ERRORS.codes.map((code) => [code, API_ERRORS.table[code].exitCode] as const))(
    'passes on the API code %s with exit %o',
    (code, exitCode) => {
      const error = apiFailure({ code, message: 'm' });
      expect(isReported(error)).toBe(true);
      expect([error.code, error.message, error.exitCode]).toEqual([code, 'm', exitCode]);
    },
  );

  it('keeps an API code it does not know, with exit code 1', () => {
    const error = apiFailure({ code: 'quota_exceeded', message: 'too many rules' });
    expect(error.code).toBe('quota_exceeded');
    expect(isReported(error)).toBe(true);
    expect(describeFailure(error).exitCode).toBe(UNKNOWN_ERROR_EXIT_CODE);
    expect(errorLine(error)).toBe('quota_exceeded: too many rules');
  });

  it('does not take inherited properties for codes', () => {
    expect(CTL_ERRORS.isCode('toString')).toBe(false);
    expect(exitCodeFor('constructor')).toBe(UNKNOWN_ERROR_EXIT_CODE);
  });
});

describe('describeFailure', () => {
  it('passes an API error on', () => {
    expect(describeFailure(apiFailure({ code: 'ack_timeout', message: 'no ack in 2000 ms' }))).toEqual({
      code: 'ack_timeout',
      message: 'no ack in 2000 ms',
      exitCode: 18,
    });
  });

  it("makes commander's parse errors bad_usage", () => {
    const error = new CommanderError(
      1,
      'commander.missingArgument',
      "error: missing required argument 'edge'",
    );
    expect(describeFailure(error)).toEqual({
      code: 'bad_usage',
      message: "missing required argument 'edge'",
      exitCode: 2,
    });
  });

  it('reports anything else as unexpected, exit 1, with the stack', () => {
    const failure = describeFailure(new TypeError('x is undefined'));
    expect(failure.code).toBe(UNEXPECTED);
    expect(failure.exitCode).toBe(1);
    expect(failure.message).toMatch(/^TypeError: x is undefined\n\s+at /);
  });
});
