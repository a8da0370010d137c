// GET /v1/stats/stream[?rule=ID]: Server-Sent Events, one `event: stats` per rule per stats
// report. A `user` token gets only its own rules' events.

import type { ServerResponse } from 'node:http';
import { statsStreamQuerySchema } from '@sluice/api';
import type { FastifyInstance } from 'fastify';
import { apiError } from '../errors.ts';
import { mayTouch } from '../rule-service.ts';
import { type ApiContext, userOf } from './api-context.ts';
import { parseInput } from './parse-body.ts';
import { statsView } from './views.ts';

// Proxies and load balancers drop a connection that stays silent; a comment line is ignored
// by every SSE client.
const KEEPALIVE_MS = 15_000;

export function statsStreamRoutes(app: FastifyInstance, context: ApiContext): void {
  const streams = new Set<ServerResponse>();
  // A stream never ends by itself; the server's close ends them so it does not wait forever.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

  app.get('/v1/stats/stream', async (request, reply) => {
    const user = userOf(request);
    const query = parseInput(statsStreamQuerySchema, request.query, 'query');
    if (query.rule !== undefined) {
      const rule = await context.store.rules.get(query.rule);
      // Another owner's rule is answered as one that does not exist.
      if (rule === null || !mayTouch(user, rule)) {
        throw apiError('not_found', `no rule with id ${JSON.stringify(query.rule)}`);
      }
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': sluice stats\n\n');
    streams.add(raw);
    // Which rules this user may see, remembered per stream (a rule's owner never changes). The
    // answer is kept as a promise, so the events of one rule still go out in order while the
    // first of them waits for the store.
    const visible = new Map<string, Promise<boolean>>();
    const maysee = (ruleId: string): Promise<boolean> => {
      if (user.role === 'admin') return Promise.resolve(true);
      let may = visible.get(ruleId);
      if (may === undefined) {
        may = context.store.rules.get(ruleId).then((rule) => rule !== null && mayTouch(user, rule));
        visible.set(ruleId, may);
      }
      return may;
    };
    const unsubscribe = context.statsHub.subscribe((stats) => {
      if (query.rule !== undefined && stats.ruleId !== query.rule) return;
      maysee(stats.ruleId).then(
        (may) => {
          if (may && !raw.destroyed)
            raw.write(`event: stats\ndata: ${JSON.stringify(statsView(stats.ruleId, stats))}\n\n`);
        },
        (error: unknown) => request.log.error({ err: error }, 'stats stream: cannot look up a rule'),
      );
    });
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
    raw.on('close', () => {
      unsubscribe();
      clearInterval(keepalive);
      streams.delete(raw);
    });
  });
}
