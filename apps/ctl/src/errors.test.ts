import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeFailure, UNEXPECTED } from './cli.ts';
import {
  CTL_ERRORS,
  CtlError,
  errorLine,
  exitCodeFor,
  isCtlErrorCode,
  UNKNOWN_ERROR_EXIT_CODE,
} from './errors.ts';

function readDoc(name: string): string {
  return readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
}

/** The rows of the markdown table that follows `heading`, as arrays of cells. */
function tableAfter(doc: string, heading: string): string[][] {
  const lines = doc.slice(doc.indexOf(heading)).split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

function unquote(cell: string): string {
  return cell.replace(/^`|`$/g, '');
}

describe('the error table', () => {
  it('gives every code its own exit code, none of them 0 or the unknown-code 1', () => {
    const codes = Object.values(CTL_ERRORS).map((entry) => entry.exitCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain(0);
    expect(codes).not.toContain(UNKNOWN_ERROR_EXIT_CODE);
    for (const code of codes) expect(code).toBeLessThan(126); // 126+ mean "not run" / signals to shells
  });

  it('holds every API error code of docs/server-api.md', () => {
    const apiCodes = tableAfter(readDoc('server-api.md'), '## HTTP API').map((row) => unquote(row[0]!));
    expect(apiCodes.length).toBeGreaterThan(10);
    for (const code of apiCodes) expect(isCtlErrorCode(code), code).toBe(true);
    const ours = Object.entries(CTL_ERRORS)
      .filter(([, entry]) => entry.source === 'api')
      .map(([code]) => code);
    expect(ours.sort()).toEqual([...apiCodes].sort());
  });

  it('is the table of docs/ctl.md', () => {
    const rows = tableAfter(readDoc('ctl.md'), '## Errors and exit codes');
    const documented = rows.map((row) => ({
      code: unquote(row[0]!),
      exitCode: Number(row[1]),
      when: row[2],
    }));
    const table = Object.entries(CTL_ERRORS).map(([code, entry]) => ({
      code,
      exitCode: entry.exitCode,
      when: entry.when,
    }));
    expect(documented).toEqual(table);
  });
});

describe('CtlError', () => {
  it('takes its exit code from the table', () => {
    const error = CtlError.of('port_in_use', 'listen 0.0.0.0:8080 overlaps rule web');
    expect(error.code).toBe('port_in_use');
    expect(error.exitCode).toBe(14);
    expect(errorLine(error)).toBe('port_in_use: listen 0.0.0.0:8080 overlaps rule web');
    expect(error.toData()).toEqual({ code: 'port_in_use', message: 'listen 0.0.0.0:8080 overlaps rule web' });
  });

  it.each(Object.entries(CTL_ERRORS))('maps the API code %s to exit %o', (code, entry) => {
    const error = CtlError.fromApi({ code, message: 'm' });
    expect(error.exitCode).toBe(entry.exitCode);
    expect(exitCodeFor(code)).toBe(entry.exitCode);
  });

  it('keeps an API code it does not know, with exit code 1', () => {
    const error = CtlError.fromApi({ code: 'quota_exceeded', message: 'too many rules' });
    expect(error.code).toBe('quota_exceeded');
    expect(error.exitCode).toBe(UNKNOWN_ERROR_EXIT_CODE);
    expect(errorLine(error)).toBe('quota_exceeded: too many rules');
  });

  it('does not take inherited properties for codes', () => {
    expect(isCtlErrorCode('toString')).toBe(false);
    expect(exitCodeFor('constructor')).toBe(UNKNOWN_ERROR_EXIT_CODE);
  });
});

describe('describeFailure', () => {
  it('passes a CtlError on', () => {
    expect(describeFailure(CtlError.of('ack_timeout', 'no ack in 2000 ms'))).toEqual({
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
