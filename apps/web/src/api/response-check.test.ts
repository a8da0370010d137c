import { API_ROUTES } from '@sluice/api';
import { describe, expect, it } from 'vitest';
import { contractProblem, routeOf } from './response-check.ts';

describe('routeOf', () => {
  it('finds the route of a request, literal paths before parameters', () => {
    expect(routeOf('GET', '/v1/rules/r_1')?.operationId).toBe(
      API_ROUTES.find((r) => r.path === '/v1/rules/:id' && r.method === 'GET')?.operationId,
    );
    expect(routeOf('PUT', '/v1/users/me/password')?.path).toBe('/v1/users/me/password');
    expect(routeOf('GET', '/v1/nothing')).toBeUndefined();
  });
});

describe('contractProblem', () => {
  const edges = routeOf('GET', '/v1/edges')!;

  it('takes an answer the contract describes', () => {
    expect(contractProblem(edges, 200, { edges: [] })).toBeNull();
  });

  it('names the first mismatch', () => {
    const bad = { edges: [{ id: 'e_1', name: 'a', connected: 'yes' }] };
    expect(contractProblem(edges, 200, bad)).toMatch(/^edges\.0\.connected: /);
  });
});
