import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from './api-errors.ts';
import { API_ROUTES } from './routes.ts';

const SERVER_API_DOC = readFileSync(new URL('../../../docs/server-api.md', import.meta.url), 'utf8');

/** The routes docs/server-api.md documents: `METHOD /path` up to a backtick, `[` or `?`. */
function documentedRoutes(): string[] {
  return [...SERVER_API_DOC.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`[?\s]*)/g)].map(
    ([, method, path]) => `${method} ${path}`,
  );
}

describe('API_ROUTES', () => {
  it('is the list of routes that docs/server-api.md documents', () => {
    const table = API_ROUTES.map((route) => `${route.method} ${route.path}`);
    expect(new Set(table).size).toBe(table.length);
    expect(new Set(documentedRoutes())).toEqual(new Set(table));
  });

  it('names each operation once and only codes of the error table', () => {
    const ids = API_ROUTES.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const route of API_ROUTES) {
      for (const code of route.errors) expect(API_ERRORS.isCode(code), code).toBe(true);
      expect(Object.keys(route.responses).length, route.operationId).toBeGreaterThan(0);
    }
  });

  it('gives a path parameter schema to every route with a parameter in its path', () => {
    for (const route of API_ROUTES) {
      const names = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => name);
      const params = 'params' in route ? Object.keys(route.params.shape) : [];
      expect(params, `${route.method} ${route.path}`).toEqual(names);
    }
  });
});
