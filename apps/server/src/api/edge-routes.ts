// /v1/edges: list, show, rename, revoke, delete. `:edge` is an id or a name.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import type { EdgeRecord } from '../store/records.ts';
import type { ApiContext } from './api-context.ts';
import { edgeNameSchema } from './edge-name.ts';
import { parseInput } from './parse-body.ts';
import { edgeView } from './views.ts';

const renameBody = z.object({ name: edgeNameSchema }).strict();

/** The edge `:edge` names, recorded as the audit target; not_found otherwise. */
export async function findEdgeOr404(
  context: ApiContext,
  idOrName: string,
  request?: FastifyRequest,
): Promise<EdgeRecord> {
  const edge = await context.store.edges.find(idOrName);
  if (edge === null)
    throw new ServerError('not_found', `no edge with id or name ${JSON.stringify(idOrName)}`);
  if (request !== undefined) request.auditTarget = edge.id;
  return edge;
}

export function edgeRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, control } = context;
  const view = (edge: EdgeRecord) => edgeView(edge, control.isConnected(edge.id));

  app.get('/v1/edges', async () => ({ edges: (await store.edges.list()).map(view) }));

  app.get<{ Params: { edge: string } }>('/v1/edges/:edge', async (request) =>
    view(await findEdgeOr404(context, request.params.edge)),
  );

  app.patch<{ Params: { edge: string } }>(
    '/v1/edges/:edge',
    { config: { action: 'edge.rename', admin: true } },
    async (request) => {
      const edge = await findEdgeOr404(context, request.params.edge, request);
      const body = parseInput(renameBody, request.body);
      const renamed = await store.edges.rename(edge.id, body.name);
      if (renamed === null)
        throw new ServerError(
          'name_taken',
          `name: another edge is already named ${JSON.stringify(body.name)}`,
        );
      return view(renamed);
    },
  );

  app.post<{ Params: { edge: string } }>(
    '/v1/edges/:edge/revoke',
    { config: { action: 'edge.revoke', admin: true } },
    async (request) => {
      const edge = await findEdgeOr404(context, request.params.edge, request);
      const revoked = (await store.edges.revoke(edge.id))!;
      control.disconnect(edge.id, 'revoked');
      context.logger.info({ edgeId: edge.id, name: edge.name }, 'edge revoked');
      return view(revoked);
    },
  );

  app.delete<{ Params: { edge: string } }>(
    '/v1/edges/:edge',
    { config: { action: 'edge.delete', admin: true } },
    async (request, reply) => {
      const edge = await findEdgeOr404(context, request.params.edge, request);
      control.disconnect(edge.id, 'deleted');
      await store.edges.delete(edge.id);
      context.logger.info({ edgeId: edge.id, name: edge.name }, 'edge deleted with its rules');
      return reply.code(204).send();
    },
  );
}
