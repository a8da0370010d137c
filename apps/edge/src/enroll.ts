// `sluice-edge enroll URI`: redeem a one-time code. The URI names the server and pins its
// certificate; nothing is sent until the pin matched. The bundle file is prepared (checked and
// created at mode 0600) before connecting, so a bad path never costs the code.
//
// A URI may list several replicas: they are tried in order until one connects with the pin, and
// the code goes to that one only. Once sent, the code may be spent, so whatever that replica
// answers (or fails to) is the outcome; no other replica is asked. Each address gets an equal
// share of the time left, so an address that swallows packets cannot take all of it.

import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import {
  type Bundle,
  type EnrollTarget,
  PROTOCOL_VERSION,
  parseEnrollUri,
  type ServerMessage,
} from '@sluice/protocol';
import { prepareBundleFile } from './bundle-file.ts';
import { ControlChannel } from './control-channel.ts';
import { EDGE_ERRORS, type EdgeError, enrollRefused } from './errors.ts';
import { connectPinned, serverLabel } from './pinned-connect.ts';

export interface EnrollOptions {
  readonly bundleFile: string;
  readonly force?: boolean;
  /** For the whole exchange: connect, handshake and answer. */
  readonly timeoutMs?: number;
}

export interface EnrollResult {
  readonly file: string;
  readonly bundle: Bundle;
}

export const ENROLL_TIMEOUT_MS = 15_000;

export function parseUri(uri: string): EnrollTarget {
  try {
    return parseEnrollUri(uri);
  } catch (err) {
    if (err instanceof RangeError) throw EDGE_ERRORS.error('enroll_uri_invalid', { reason: err.message });
    throw err;
  }
}

export async function enroll(uri: string, options: EnrollOptions): Promise<EnrollResult> {
  const target = parseUri(uri);
  const timeoutMs = options.timeoutMs ?? ENROLL_TIMEOUT_MS;
  const pending = await prepareBundleFile(options.bundleFile, { force: options.force ?? false });
  try {
    const answer = await exchange(target, timeoutMs);
    const bundle: Bundle = {
      version: 2,
      servers: target.servers.map(({ host, port }) => ({ host, port })),
      pin: target.pin,
      edgeId: answer.edgeId,
      name: answer.name,
      secret: answer.secret,
    };
    await pending.commit(bundle);
    return { file: pending.file, bundle };
  } finally {
    await pending.abort();
  }
}

type Enrolled = Extract<ServerMessage, { type: 'enrolled' }>;

/** A pinned connection to the first address that takes one; the last failure when none does. */
async function connectFirst(
  target: EnrollTarget,
  deadline: number,
): Promise<{ socket: TLSSocket; server: string }> {
  let failure: unknown = null;
  for (const [i, address] of target.servers.entries()) {
    const share = Math.max(1, Math.floor((deadline - Date.now()) / (target.servers.length - i)));
    try {
      const socket = await connectPinned({ ...address, pin: target.pin }, share);
      return { socket, server: serverLabel(address) };
    } catch (err) {
      failure = err;
    }
  }
  throw failure;
}

async function exchange(target: EnrollTarget, timeoutMs: number): Promise<Enrolled> {
  const deadline = Date.now() + timeoutMs;
  const { socket, server } = await connectFirst(target, deadline);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: EdgeError | null, answer?: Enrolled): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel.close('done');
      if (error) reject(error);
      else resolve(answer!);
    };
    const timer = setTimeout(
      () => settle(EDGE_ERRORS.error('timeout', { server, ms: timeoutMs })),
      Math.max(0, deadline - Date.now()),
    );
    const channel = new ControlChannel(socket, {
      message(message) {
        switch (message.type) {
          case 'enrolled':
            return settle(null, message);
          case 'refused':
            return settle(enrollRefused(message.code, message.message));
          case 'ping':
            channel.send({ type: 'pong' });
            return;
          default:
            return settle(
              EDGE_ERRORS.error('protocol_error', { server, reason: `answered enroll with ${message.type}` }),
            );
        }
      },
      end(end) {
        if (end.reason === 'protocol_error')
          settle(EDGE_ERRORS.error('protocol_error', { server, reason: end.detail }));
        else settle(EDGE_ERRORS.error('server_closed', { server }));
      },
    });
    channel.send({
      type: 'enroll',
      version: PROTOCOL_VERSION,
      code: target.code,
      hostname: hostname().slice(0, 253),
    });
  });
}
