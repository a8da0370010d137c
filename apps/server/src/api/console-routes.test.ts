import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '@sluice/test-kit';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleRoutes } from './console-routes.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function appOn(webDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  consoleRoutes(
    app,
    (_request, reply) => reply.code(404).send({ error: { code: 'not_found', message: 'no route' } }),
    webDir,
  );
  await app.ready();
  return app;
}

function builtConsole(): string {
  const dir = tempDir('sluice-web-');
  dirs.push(dir);
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>',
  );
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not an asset');
  return dir;
}

describe('consoleRoutes', () => {
  it('answers index.html for client routes, never cached, with the CSP', async () => {
    const app = await appOn(builtConsole());
    for (const url of ['/', '/edges', '/rules/r_1?x=1']) {
      const answer = await app.inject({ method: 'GET', url });
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(answer.body).toContain('/assets/index-abc123.js');
    }
  });

  it('serves hashed assets immutably, and nothing outside assets/', async () => {
    const app = await appOn(builtConsole());
    const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    // A dotted path may be normalized to a client route (index.html) or refused; never the file.
    for (const url of ['/assets/../secret.txt', '/assets/%2e%2e%2fsecret.txt', '/assets/..%2fsecret.txt']) {
      const answer = await app.inject({ method: 'GET', url });
      expect(answer.body, url).not.toContain('not an asset');
    }
    expect((await app.inject({ method: 'GET', url: '/assets/nothere.js' })).statusCode).toBe(404);
  });

  it('leaves API paths to the API', async () => {
    const app = await appOn(builtConsole());
    for (const url of ['/v1/nothing', '/metrics', '/healthz/x']) {
      const answer = await app.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json()).toEqual({ error: { code: 'not_found', message: 'no route' } });
    }
  });

  it('says how to build the console when it is not built', async () => {
    const dir = tempDir('sluice-web-');
    dirs.push(dir);
    const answer = await (await appOn(dir)).inject({ method: 'GET', url: '/' });
    expect(answer.statusCode).toBe(503);
    expect(answer.body).toMatch(/the web console is not built .*\.\/run builds it/);
  });
});
