import { describe, expect, it } from 'vitest';
import { API_ERRORS, apiErrorBody, apiErrorBodySchema } from './api-errors.ts';

describe('API_ERRORS', () => {
  it('gives every code an HTTP error status and its own exit code, none 0 or the unknown-code 1', () => {
    const exitCodes = API_ERRORS.codes.map((code) => API_ERRORS.table[code].exitCode);
    expect(new Set(exitCodes).size).toBe(exitCodes.length);
    for (const code of API_ERRORS.codes) {
      const { status, exitCode } = API_ERRORS.table[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(exitCode, code).toBeGreaterThan(1);
      expect(exitCode, code).toBeLessThan(126);
    }
  });

  it('makes the error body that the body schema reads', () => {
    const body = apiErrorBody('not_found', 'no rule "r_1"');
    expect(body).toEqual({ error: { code: 'not_found', message: 'no rule "r_1"' } });
    expect(apiErrorBodySchema.parse(body)).toEqual(body);
    expect(apiErrorBodySchema.safeParse({ error: { code: '', message: 'x' } }).success).toBe(false);
  });
});
