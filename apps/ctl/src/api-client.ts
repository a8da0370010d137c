// The HTTP client for sluice-server's operator API, on Node's fetch. Every failure becomes a
// SluiceError: the API's own `{ error: { code, message } }` passed on as sent, and the client's
// codes (server_unreachable, server_timeout, bad_response, stream_closed) naming the server URL.

import { apiErrorBodySchema } from '@sluice/api';
import type { SluiceError } from '@sluice/errors';
import type { z } from 'zod';
import { apiFailure, ctlError, isReported } from './errors.ts';
import type { ServerSettings } from './server-settings.ts';
import { type SseEvent, SseParser } from './sse.ts';
import { CTL_VERSION } from './version.ts';

const USER_AGENT = `sluicectl/${CTL_VERSION}`;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Why a connection failed, from the cause undici attaches to "fetch failed". */
export function describeNetworkError(error: unknown): string {
  let cause: unknown = isRecord(error) && 'cause' in error && error.cause !== undefined ? error.cause : error;
  // A host with several addresses (localhost) fails as an AggregateError with an empty message.
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  // OpenSSL's messages run to file names and line numbers; its reason is what a person needs.
  if (isRecord(cause) && typeof cause.reason === 'string' && typeof cause.library === 'string') {
    return `TLS failed: ${cause.reason} (${String(cause.code)})`;
  }
  if (cause instanceof Error && cause.message !== '') return cause.message.trim();
  if (isRecord(cause) && typeof cause.code === 'string') return cause.code;
  return String(cause);
}

function isTimeout(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'TimeoutError';
}

/** The events of a stream aborted before it opened: none. */
async function* noEvents(): AsyncGenerator<SseEvent> {}

export class ApiClient {
  readonly #settings: ServerSettings;

  constructor(settings: ServerSettings) {
    this.#settings = settings;
  }

  /** The server as the operator gave it, for messages. */
  get server(): string {
    return this.#settings.server.href;
  }

  /** `path` (with its query) under the server URL, keeping any path prefix the URL has. */
  url(path: string): URL {
    const base = this.#settings.server;
    return new URL(base.pathname.replace(/\/+$/, '') + path, base);
  }

  /** Sends one request; answers the parsed JSON body, or null for 204. */
  async request(method: Method, path: string, body?: unknown): Promise<unknown> {
    const what = `${method} ${path}`;
    const signal = AbortSignal.timeout(this.#settings.timeoutMs);
    try {
      const response = await this.#fetch(method, path, body, 'application/json', signal);
      const text = await response.text();
      if (response.status === 204 && response.ok) return null;
      const parsed = this.#json(text);
      if (!response.ok) throw this.#httpError(what, response, parsed);
      if (parsed === undefined) {
        throw ctlError('bad_response', `${this.#who()} answered ${what} with a body that is not JSON`);
      }
      return parsed;
    } catch (error) {
      throw this.#failure(error, what);
    }
  }

  /** Checks an answer against the shape sluicectl reads from it. */
  parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
    throw ctlError(
      'bad_response',
      `${this.#who()} answered ${what} with an unexpected body: ${where}${issue?.message ?? 'invalid'}`,
    );
  }

  /**
   * Opens a text/event-stream: resolves once the server has answered with one, so whatever it
   * sends from then on is in the returned events, read until `signal` aborts (then they end)
   * or the server ends the stream (stream_closed). The timeout covers the wait for the response
   * headers only.
   */
  async events(path: string, signal: AbortSignal): Promise<AsyncGenerator<SseEvent>> {
    const what = `GET ${path}`;
    // fetch's signal also ends the body, so the timeout is a timer cleared once headers arrive.
    const own = new AbortController();
    const timer = setTimeout(
      () => own.abort(new DOMException('the response headers did not arrive in time', 'TimeoutError')),
      this.#settings.timeoutMs,
    );
    let response: Response;
    try {
      response = await this.#fetch(
        'GET',
        path,
        undefined,
        'text/event-stream',
        AbortSignal.any([signal, own.signal]),
      );
    } catch (error) {
      if (signal.aborted) return noEvents();
      throw this.#failure(error, what);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const parsed = this.#json(await response.text());
      throw this.#httpError(what, response, parsed);
    }
    const type = response.headers.get('content-type') ?? '';
    if (response.body === null || !type.startsWith('text/event-stream')) {
      await response.body?.cancel();
      throw ctlError(
        'bad_response',
        `${this.#who()} answered ${what} with ${type === '' ? 'no content type' : type}, not text/event-stream`,
      );
    }
    return this.#readEvents(response.body, what, signal, own);
  }

  async *#readEvents(
    body: ReadableStream<Uint8Array>,
    what: string,
    signal: AbortSignal,
    own: AbortController,
  ): AsyncGenerator<SseEvent> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        yield* parser.push(decoder.decode(chunk, { stream: true }));
      }
    } catch (error) {
      if (signal.aborted) return;
      throw ctlError(
        'stream_closed',
        `the stream from ${this.#who()} broke: ${describeNetworkError(error)}`,
        error,
      );
    } finally {
      own.abort();
    }
    if (signal.aborted) return;
    throw ctlError('stream_closed', `${this.#who()} ended the stream of ${what}`);
  }

  #who(): string {
    return `the sluice server at ${this.server}`;
  }

  #fetch(
    method: Method,
    path: string,
    body: unknown,
    accept: string,
    signal: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#settings.token}`,
      accept,
      'user-agent': USER_AGENT,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(this.url(path), {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal,
      redirect: 'error',
    });
  }

  #json(text: string): unknown {
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  #httpError(what: string, response: Response, body: unknown): SluiceError {
    const error = apiErrorBodySchema.safeParse(body);
    if (error.success) return apiFailure(error.data.error);
    const status = `HTTP ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
    return ctlError(
      'bad_response',
      `${this.#who()} answered ${what} with ${status} and no sluice error body; is ${this.server} the sluice API listener?`,
    );
  }

  #failure(error: unknown, what: string): SluiceError {
    if (isReported(error)) return error;
    if (isTimeout(error)) {
      return ctlError(
        'server_timeout',
        `${this.#who()} did not answer ${what} within ${this.#settings.timeoutMs / 1000} s`,
        error,
      );
    }
    return ctlError(
      'server_unreachable',
      `cannot reach the sluice server at ${this.server}: ${describeNetworkError(error)}`,
      error,
    );
  }
}
