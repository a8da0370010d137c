// /v1/edges/:edge/owners/:owner/limits: the caps an owner's rules share on one edge, as the
// standalone file's `[owners.NAME] limits`. Checked with the config's own limits schema when set,
// stored, and pushed to the edge as the push message's `owners` (all owners of the edge, which
// the edge takes as its whole owner set); an edge offline now gets them with its next full push.

import {
  isoTime,
  type OwnerLimits,
  type OwnerLimitsParams,
  ownerLimitsBodySchema,
  ownerLimitsParamsSchema,
} from '@sluice/api';
import { limitsSchema, validate } from '@sluice/config';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import type { EdgeRecord, OwnerLimitsRecord } from '../store/records.ts';
import type { ApiContext } from './api-context.ts';
import { findEdgeOr404 } from './edge-routes.ts';
import { parseInput } from './parse-body.ts';

const PATH = '/v1/edges/:edge/owners/:owner/limits';

function ownerLimitsView(edge: EdgeRecord, record: OwnerLimitsRecord): OwnerLimits {
  return {
    edge: { id: edge.id, name: edge.name },
    owner: record.owner,
    limits: record.limits,
    updatedAt: isoTime(record.updatedAt),
  };
}

export function ownerLimitRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, control } = context;

  const target = async (request: FastifyRequest<{ Params: OwnerLimitsParams }>) => {
    const params = parseInput(ownerLimitsParamsSchema, request.params, 'params');
    const edge = await findEdgeOr404(context, params.edge, request);
    request.auditTarget = `${edge.id}/${params.owner}`;
    return { edge, owner: params.owner };
  };

  /** Sends the edge its owners as stored now; an offline edge gets them on reconnect. */
  const pushOwners = async (edge: EdgeRecord): Promise<void> => {
    const owners = await store.ownerLimits.ofEdge(edge.id);
    const outcome = await control.push(edge.id, { upsert: [], remove: [], owners });
    if (outcome.kind === 'timeout' || outcome.kind === 'closed') {
      throw apiError(
        'ack_timeout',
        `edge ${edge.name} did not ack the owner caps within ${control.ackTimeoutMs} ms; they are stored and pushed again when it reconnects`,
      );
    }
  };

  app.put<{ Params: OwnerLimitsParams }>(
    PATH,
    { config: { action: 'owner_limits.set', admin: true } },
    async (request) => {
      const { edge, owner } = await target(request);
      const body = parseInput(ownerLimitsBodySchema, request.body);
      const checked = validate(limitsSchema, body.limits, ['limits']);
      if (!checked.ok) {
        throw apiError(
          'bad_request',
          checked.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
        );
      }
      const record = await store.ownerLimits.set(edge.id, owner, body.limits);
      context.logger.info({ edge: edge.name, owner }, 'owner caps set');
      await pushOwners(edge);
      return ownerLimitsView(edge, record);
    },
  );

  app.get<{ Params: OwnerLimitsParams }>(PATH, { config: { admin: true } }, async (request) => {
    const { edge, owner } = await target(request);
    const record = await store.ownerLimits.get(edge.id, owner);
    if (record === null)
      throw apiError('not_found', `owner ${JSON.stringify(owner)} has no caps on edge ${edge.name}`);
    return ownerLimitsView(edge, record);
  });

  app.delete<{ Params: OwnerLimitsParams }>(
    PATH,
    { config: { action: 'owner_limits.delete', admin: true } },
    async (request, reply) => {
      const { edge, owner } = await target(request);
      if (!(await store.ownerLimits.delete(edge.id, owner))) {
        throw apiError('not_found', `owner ${JSON.stringify(owner)} has no caps on edge ${edge.name}`);
      }
      context.logger.info({ edge: edge.name, owner }, 'owner caps removed');
      await pushOwners(edge);
      return reply.code(204).send();
    },
  );
}
