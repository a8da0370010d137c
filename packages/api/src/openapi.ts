// The OpenAPI 3.1 document of the operator API, made from the route table: each schema goes
// through z.toJSONSchema (requests as they are sent, responses as they are answered), schemas
// with an id become components, and the paths are put together by hand from the table.

import { z } from 'zod';
import { API_ERRORS, type ApiErrorCode, apiErrorBodySchema } from './api-errors.ts';
import { API_ROUTES, type ApiRoute, type RouteResponse } from './routes.ts';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const COMPONENTS = '#/components/schemas/';

/** Points zod's `#/$defs/X` references at the document's components. */
function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, COMPONENTS) : relink(inner),
    ]),
  );
}

class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};

  /** The JSON Schema of `schema`, its named parts moved to the components. */
  convert(schema: z.ZodType, io: Io): JsonSchema {
    const converted = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      override: ({ jsonSchema }) => {
        // zod spells out a date-time as a long regular expression; `format` says the same.
        if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
      },
    });
    const { $schema: _dialect, $defs, ...root } = relink(converted) as JsonSchema;
    for (const [id, part] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const known = this.components[id];
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(part)) {
        throw new Error(`schema ${id} differs between requests and responses; give each its own id`);
      }
      this.components[id] = part;
    }
    return root;
  }
}

/** `/v1/rules/:id` as OpenAPI writes it: `/v1/rules/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

function parameters(
  collector: SchemaCollector,
  where: 'path' | 'query',
  schema: z.ZodObject | undefined,
): JsonSchema[] {
  if (schema === undefined) return [];
  const object = collector.convert(schema, 'input');
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries((object.properties ?? {}) as Record<string, JsonSchema>).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    };
  });
}

function successResponse(collector: SchemaCollector, response: RouteResponse): JsonSchema {
  switch (response.kind) {
    case 'empty':
      return { description: response.description };
    case 'json':
      return {
        description: response.description,
        content: { 'application/json': { schema: collector.convert(response.schema, 'output') } },
      };
    case 'events':
      return {
        description: response.description,
        content: {
          'text/event-stream': {
            schema: { type: 'string' },
            // OpenAPI 3.1 has no words for an event's data; the schema is kept beside it.
            'x-event': { event: response.event, data: collector.convert(response.schema, 'output') },
          },
        },
      };
  }
}

/**
 * The codes a route can answer: its own, plus auth and internal, which every route may. A session
 * whose password was reset may do nothing else until it is changed, and a write by session cookie
 * needs the CSRF checks.
 */
function errorCodes(route: ApiRoute): ApiErrorCode[] {
  const codes = new Set<ApiErrorCode>(route.errors);
  if (route.access !== 'public') {
    codes.add('unauthorized');
    codes.add('password_change_required');
    if (route.method !== 'GET') codes.add('csrf_failed');
  }
  if (route.access === 'admin') codes.add('forbidden');
  codes.add('internal');
  return API_ERRORS.codes.filter((code) => codes.has(code));
}

function errorResponses(route: ApiRoute): Record<string, JsonSchema> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of errorCodes(route)) {
    const status = API_ERRORS.table[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      String(status),
      {
        description: codes.map((code) => `\`${code}\`: ${API_ERRORS.table[code].message}`).join('; '),
        content: { 'application/json': { schema: { $ref: `${COMPONENTS}Error` } } },
      },
    ]),
  );
}

function operation(collector: SchemaCollector, route: ApiRoute): JsonSchema {
  const access = {
    public: 'No token needed.',
    token: 'Any valid token.',
    admin: "An admin's token only.",
  }[route.access];
  const success = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      successResponse(collector, response),
    ]),
  );
  const params = [
    ...parameters(collector, 'path', route.params),
    ...parameters(collector, 'query', route.query),
  ];
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: access,
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: collector.convert(route.body, 'input') } },
          },
        }),
    responses: { ...success, ...errorResponses(route) },
  };
}

/** The OpenAPI 3.1 document of the routes (by default, the whole API). */
export function openApiDocument(routes: readonly ApiRoute[] = API_ROUTES): JsonSchema {
  const collector = new SchemaCollector();
  collector.convert(apiErrorBodySchema, 'output');
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(collector, route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sluice-server operator API',
      version: 'v1',
      description:
        'The operator HTTP API of sluice-server (docs/server-api.md). JSON in and out; errors are `{ "error": { "code", "message" } }` with the codes of docs/server-api.md. Generated from packages/api; do not edit by hand.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: Object.fromEntries(
        Object.entries(collector.components).sort(([a], [b]) => a.localeCompare(b)),
      ),
    },
  };
}
