import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, apiTypesSource } from './api-types-source.ts';

describe('the console API types', () => {
  it('match docs/openapi.json (regenerate: pnpm --filter @sluice/web gen:api)', async () => {
    expect(readFileSync(API_TYPES_FILE, 'utf8')).toBe(await apiTypesSource());
  });
});
