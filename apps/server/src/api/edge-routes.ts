// /v1/edges: list, show, rename, revoke, delete. `:edge` is an id or a name.

import {
  type Edge,
  type EdgeList,
  type EdgeParams,
  edgeParamsSchema,
  renameEdgeBodySchema,
} from '@sluice/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import { seesEdge } from '../grant-check.ts';
import type { EdgeRecord } from '../store/records.ts';
import { type ApiContext, recordChange, userOf } from './api-context.ts';
import { parseInput } from './parse-body.ts';
import { edgeView } from './views.ts';

/** The `:edge` of a request's path. */
function edgeParam(request: FastifyRequest<{ Params: EdgeParams }>): string {
  return parseInput(edgeParamsSchema, request.params, 'params').edge;
}

/** The edge `:edge` names, recorded as the audit target; not_found otherwise. */
export async function findEdgeOr404(
  context: ApiContext,
  idOrName: string,
  request?: FastifyRequest,
): Promise<EdgeRecord> {
  const edge = await context.store.edges.find(idOrName);
  if (edge === null) throw apiError('not_found', `no edge with id or name ${JSON.stringify(idOrName)}`);
  if (request !== undefined) request.auditTarget = edge.id;
  return edge;
}

export function edgeRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, control } = context;
  const view = (edge: EdgeRecord, rules: ReadonlyMap<string, number>): Edge =>
    edgeView(edge, control.isConnected(edge.id), rules.get(edge.id) ?? 0);

  // A user sees only the edges it holds a grant on; another edge is as unknown to it as none.
  const grantsOf = async (request: FastifyRequest) => {
    const user = userOf(request);
    return { user, grants: user.role === 'admin' ? [] : await store.grants.listByUser(user.id) };
  };

  app.get('/v1/edges', async (request) => {
    const { user, grants } = await grantsOf(request);
    const edges = (await store.edges.list()).filter((edge) => seesEdge(user, grants, edge.id));
    const rules = await store.edges.ruleCounts();
    return { edges: edges.map((edge) => view(edge, rules)) } satisfies EdgeList;
  });

  app.get<{ Params: EdgeParams }>('/v1/edges/:edge', async (request) => {
    const { user, grants } = await grantsOf(request);
    const name = edgeParam(request);
    const edge = await findEdgeOr404(context, name);
    if (!seesEdge(user, grants, edge.id)) {
      throw apiError('not_found', `no edge with id or name ${JSON.stringify(name)}`);
    }
    return view(edge, await store.edges.ruleCounts(edge.id));
  });

  app.patch<{ Params: EdgeParams }>(
    '/v1/edges/:edge',
    { config: { action: 'edge.rename', admin: true } },
    async (request) => {
      const edge = await findEdgeOr404(context, edgeParam(request), request);
      const body = parseInput(renameEdgeBodySchema, request.body);
      const renamed = await store.edges.rename(edge.id, body.name);
      if (renamed === null)
        throw apiError('name_taken', `name: another edge is already named ${JSON.stringify(body.name)}`);
      const rules = await store.edges.ruleCounts(edge.id);
      recordChange(request, view(edge, rules), view(renamed, rules));
      return view(renamed, rules);
    },
  );

  app.post<{ Params: EdgeParams }>(
    '/v1/edges/:edge/revoke',
    { config: { action: 'edge.revoke', admin: true } },
    async (request) => {
      const edge = await findEdgeOr404(context, edgeParam(request), request);
      const before = await store.edges.ruleCounts(edge.id);
      const revoked = (await store.edges.revoke(edge.id))!;
      const after = await store.edges.ruleCounts(edge.id);
      recordChange(request, view(edge, before), view(revoked, after));
      control.disconnect(edge.id, 'revoked');
      context.logger.info({ edgeId: edge.id, name: edge.name }, 'edge revoked');
      return view(revoked, after);
    },
  );

  app.delete<{ Params: EdgeParams }>(
    '/v1/edges/:edge',
    { config: { action: 'edge.delete', admin: true } },
    async (request, reply) => {
      const edge = await findEdgeOr404(context, edgeParam(request), request);
      recordChange(request, view(edge, await store.edges.ruleCounts(edge.id)), null);
      control.disconnect(edge.id, 'deleted');
      await store.edges.delete(edge.id);
      context.logger.info({ edgeId: edge.id, name: edge.name }, 'edge deleted with its rules');
      return reply.code(204).send();
    },
  );
}
