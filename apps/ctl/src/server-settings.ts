// Where sluicectl finds its server and token: the flags first, then SLUICE_SERVER and
// SLUICE_TOKEN. There is no default server: talking to the wrong one with an admin token is
// worse than asking.

import { ctlError } from './errors.ts';

export const DEFAULT_TIMEOUT_SECS = 30;

export interface ServerSettings {
  readonly server: URL;
  readonly token: string;
  /** Budget for one request, from sending it to the end of its body (for a stream, its headers). */
  readonly timeoutMs: number;
}

export interface GlobalFlags {
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  readonly timeout?: string | undefined;
}

function given(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseServer(text: string, source: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw ctlError(
      'bad_usage',
      `${source} ${JSON.stringify(text)} is not an http:// or https:// URL (e.g. http://127.0.0.1:7080)`,
    );
  }
  return url;
}

export function parseTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_SECS * 1000;
  const secs = Number(text);
  if (!/^\d+(?:\.\d+)?$/.test(text) || !(secs > 0)) {
    throw ctlError('bad_usage', `--timeout ${JSON.stringify(text)} is not a number of seconds above 0`);
  }
  return Math.ceil(secs * 1000);
}

export function resolveServerSettings(flags: GlobalFlags, env: NodeJS.ProcessEnv): ServerSettings {
  const timeoutMs = parseTimeout(flags.timeout);
  const flagServer = given(flags.server);
  const serverText = flagServer ?? given(env.SLUICE_SERVER);
  const token = given(flags.token) ?? given(env.SLUICE_TOKEN);
  const missing: string[] = [];
  if (serverText === undefined) missing.push('no server: pass --server URL or set SLUICE_SERVER');
  if (token === undefined) missing.push('no token: pass --token TOKEN or set SLUICE_TOKEN');
  if (serverText === undefined || token === undefined) throw ctlError('config_missing', missing.join('; '));
  const server = parseServer(serverText, flagServer === undefined ? 'SLUICE_SERVER' : '--server');
  return { server, token, timeoutMs };
}
