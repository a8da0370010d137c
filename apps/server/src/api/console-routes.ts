// The web console on the API listener: its hashed assets (cached for a year, immutable: a new
// build has new names) and index.html for every other non-API path, so client routes survive a
// reload (index.html is never cached, so a new build is picked up at once). Every answer
// carries a Content-Security-Policy that allows only this origin's scripts and styles: no
// inline script can run, whatever a page ends up showing. /v1/*, /metrics and /healthz stay
// API: an unknown one answers the API's not_found.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The console's build: apps/web/dist in the source tree, or web/ beside lib/ in a release (where
 * this module is bundled into lib/sluice-server.js). The source tree's is named when neither is
 * there, since that is the one ./run builds.
 */
const WEB_DIRS = [
  fileURLToPath(new URL('../../../web/dist/', import.meta.url)),
  fileURLToPath(new URL('../web/', import.meta.url)),
];
const DEFAULT_WEB_DIR =
  WEB_DIRS.find((dir) => existsSync(join(dir, 'index.html'))) ?? (WEB_DIRS[0] as string);

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const ASSET_NAME = /^[A-Za-z0-9._-]+$/;
const API_PATH = /^\/(v1|metrics|healthz)(\/|$)/;

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY');
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch {
    return null;
  }
}

export function consoleRoutes(
  app: FastifyInstance,
  notFound: (request: FastifyRequest, reply: FastifyReply) => unknown,
  webDir: string = DEFAULT_WEB_DIR,
): void {
  app.get('/*', { config: { public: true, console: true } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (API_PATH.test(path)) return notFound(request, reply);
    if (path.startsWith('/assets/')) {
      const name = path.slice('/assets/'.length);
      const body = ASSET_NAME.test(name) ? await readOrNull(join(webDir, 'assets', name)) : null;
      if (body === null) return secure(reply).code(404).type('text/plain').send(`no console asset ${name}`);
      return secure(reply)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .type(TYPES[extname(name)] ?? 'application/octet-stream')
        .send(body);
    }
    const index = await readOrNull(join(webDir, 'index.html'));
    if (index === null) {
      return secure(reply)
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(
          `the web console is not built (no ${join(webDir, 'index.html')}); ./run builds it before it starts the server`,
        );
    }
    return secure(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index);
  });
}
