import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from './api-errors.ts';
import { openApiDocument, openApiPath } from './openapi.ts';
import { API_ROUTES } from './routes.ts';
import { OPENAPI_FILE } from './write-openapi.ts';

const document = openApiDocument();

/** Every `$ref` anywhere in a value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [inner] : refs(inner),
  );
}

interface Operation {
  readonly responses: Record<string, { readonly description: string }>;
  readonly security?: unknown[];
}

function operationOf(method: string, path: string): Operation {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  const found = paths[openApiPath(path)]?.[method.toLowerCase()];
  if (found === undefined) throw new Error(`no ${method} ${path} in the document`);
  return found;
}

describe('docs/openapi.json', () => {
  it('is the document the route table makes (run `pnpm docs:openapi` when this fails)', () => {
    const committed = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as unknown;
    expect(committed).toEqual(document);
  });
});

describe('openApiDocument', () => {
  it('is a valid OpenAPI 3.1 document, by an OpenAPI validator', async () => {
    // The validator dereferences in place; it gets a copy.
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('is OpenAPI 3.1 whose every reference resolves to a component', () => {
    expect(document.openapi).toBe('3.1.0');
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    const all = refs(document);
    expect(all.length).toBeGreaterThan(10);
    for (const ref of all) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
  });

  it('has every route of the table, each error code under its status', () => {
    expect(openApiPath('/v1/edges/:edge/revoke')).toBe('/v1/edges/{edge}/revoke');
    for (const route of API_ROUTES) {
      const operation = operationOf(route.method, route.path);
      for (const status of Object.keys(route.responses)) expect(operation.responses[status]).toBeDefined();
      for (const code of route.errors) {
        const response = operation.responses[String(API_ERRORS.table[code].status)];
        expect(response?.description, `${route.method} ${route.path} ${code}`).toContain(`\`${code}\``);
      }
    }
  });

  it('asks a token of every route but the public ones, and lists 401 and 403 where they apply', () => {
    expect(operationOf('GET', '/healthz').security).toEqual([]);
    expect(operationOf('GET', '/v1/openapi.json').responses['401']).toBeUndefined();
    expect(operationOf('GET', '/v1/edges').security).toBeUndefined();
    expect(operationOf('GET', '/v1/edges').responses['401']?.description).toContain('`unauthorized`');
    expect(operationOf('GET', '/v1/audit').responses['403']?.description).toContain('`forbidden`');
    expect(operationOf('DELETE', '/v1/edges/:edge').responses['204']).toEqual({ description: 'deleted' });
  });
});
