import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SluiceError } from '@sluice/errors';
import { describe, expect, it } from 'vitest';
import { ApiClient, describeNetworkError } from './api-client.ts';

function client(server: string): ApiClient {
  return new ApiClient({ server: new URL(server), token: 't', timeoutMs: 2000 });
}

describe('ApiClient.url', () => {
  it('keeps a path prefix of the server URL, with or without a trailing slash', () => {
    expect(client('http://h:7080').url('/v1/edges').href).toBe('http://h:7080/v1/edges');
    expect(client('http://h/sluice').url('/v1/rules?edge=a').href).toBe('http://h/sluice/v1/rules?edge=a');
    expect(client('http://h/sluice/').url('/v1/edges').href).toBe('http://h/sluice/v1/edges');
  });
});

describe('describeNetworkError', () => {
  it("reads the cause of fetch's TypeError", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7080'), { code: 'ECONNREFUSED' });
    expect(describeNetworkError(new TypeError('fetch failed', { cause: refused }))).toBe(
      'connect ECONNREFUSED 127.0.0.1:7080',
    );
  });

  it('takes the first error of an AggregateError (a host with several addresses)', () => {
    const aggregate = new AggregateError(
      [new Error('connect ECONNREFUSED ::1:7080'), new Error('second')],
      '',
    );
    expect(describeNetworkError(new TypeError('fetch failed', { cause: aggregate }))).toBe(
      'connect ECONNREFUSED ::1:7080',
    );
  });

  it("shortens OpenSSL's messages to the reason and code", () => {
    const tls = Object.assign(
      new Error('40CD:error:0A00010B:SSL routines:...:wrong version number:file.c:77:\n'),
      {
        library: 'SSL routines',
        reason: 'wrong version number',
        code: 'ERR_SSL_WRONG_VERSION_NUMBER',
      },
    );
    expect(describeNetworkError(new TypeError('fetch failed', { cause: tls }))).toBe(
      'TLS failed: wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)',
    );
  });

  it('falls back to a code, then to the text', () => {
    expect(describeNetworkError({ cause: { code: 'EHOSTUNREACH' } })).toBe('EHOSTUNREACH');
    expect(describeNetworkError('odd')).toBe('odd');
  });
});

describe('ApiClient against a plain HTTP server', () => {
  it('names the server when https:// meets plain HTTP, or when the answer is not the API', async () => {
    const server = createServer((_request, response) => response.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await client(`https://127.0.0.1:${port}`)
        .request('GET', '/v1/edges')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe('server_unreachable');
      expect((error as SluiceError).message).toMatch(
        new RegExp(`^cannot reach the sluice server at https://127\\.0\\.0\\.1:${port}/: TLS failed: `),
      );
      const plain = await client(`http://127.0.0.1:${port}`)
        .request('GET', '/v1/edges')
        .catch((caught: unknown) => caught);
      expect((plain as SluiceError).code).toBe('bad_response');
      expect((plain as SluiceError).message).toBe(
        `the sluice server at http://127.0.0.1:${port}/ answered GET /v1/edges with a body that is not JSON`,
      );
      const stream = await client(`http://127.0.0.1:${port}`)
        .events('/v1/stats/stream', new AbortController().signal)
        .catch((caught: unknown) => caught);
      expect((stream as SluiceError).code).toBe('bad_response');
      expect((stream as SluiceError).message).toMatch(/with no content type, not text\/event-stream$/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('ApiClient requests', () => {
  it('sends the token as a bearer, bodies as JSON, and asks for text/event-stream on a stream', async () => {
    const seen: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({ method: request.method, url: request.url, headers: request.headers, body });
        if (request.headers.accept === 'text/event-stream') {
          response.writeHead(200, { 'content-type': 'text/event-stream' }).end();
        } else {
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const api = client(`http://127.0.0.1:${port}/prefix`);
      await api.request('POST', '/v1/rules', { edge: 'edge-01' });
      const events = await api.events('/v1/stats/stream?rule=r1', new AbortController().signal);
      const stream = await events.next().catch((caught: unknown) => caught);
      expect((stream as SluiceError).code).toBe('stream_closed');
      expect(seen).toMatchObject([
        {
          method: 'POST',
          url: '/prefix/v1/rules',
          headers: {
            authorization: 'Bearer t',
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: '{"edge":"edge-01"}',
        },
        {
          method: 'GET',
          url: '/prefix/v1/stats/stream?rule=r1',
          headers: { authorization: 'Bearer t', accept: 'text/event-stream' },
          body: '',
        },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
