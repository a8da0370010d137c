// The splice(2) relay path: once both sockets are connected and nothing waits in their JS
// buffers, the addon duplicates their descriptors and relays on this shard's own libuv loop;
// JS then destroys its sockets, so an idle relayed connection holds no JS socket at all.
// A pair the addon cannot take (splice refused before a byte moved, descriptors unavailable,
// bytes already buffered in JS) goes to the JS relay instead.

import type { Socket } from 'node:net';
import { rejectField } from '@sluice/counters';
import type { NativeSplice, SpliceCloseResult } from '@sluice/splice';
import { spliceErrnoCode } from '@sluice/splice';
import type { RelayFailure, RelayPath } from './relay-path.ts';

interface HandleWithFd {
  readonly fd?: number;
}

function fdOf(socket: Socket): number {
  // net.Socket keeps its libuv TCP handle in _handle; on Unix it exposes the descriptor.
  const handle = (socket as unknown as { _handle?: HandleWithFd | null })._handle;
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}

/** The addon's close reason as the relay failure both paths report (null: a clean end). */
export function spliceFailure(result: SpliceCloseResult): RelayFailure | null {
  switch (result.reason) {
    case 'client_reset':
    case 'upstream_reset':
    case 'error':
      return { reason: result.reason, errno: spliceErrnoCode(result.errno) };
    case 'idle_timeout':
      return { reason: 'idle_timeout', errno: 'ETIMEDOUT' };
    default:
      return null;
  }
}

export function createSpliceRelay(native: NativeSplice, fallback: RelayPath): RelayPath {
  // When the shard's thread exits, the addon's own cleanup hook resets every pair it holds;
  // calling into it from JS exit handlers would race that teardown.
  let exiting = false;
  process.once('exit', () => {
    exiting = true;
  });
  return (client, upstream, context) => {
    const clientFd = fdOf(client);
    const upstreamFd = fdOf(upstream);
    const buffered =
      client.readableLength + upstream.readableLength + client.writableLength + upstream.writableLength;
    if (clientFd < 0 || upstreamFd < 0 || buffered > 0) return fallback(client, upstream, context);
    const id = native.relay(
      clientFd,
      upstreamFd,
      context.row,
      {
        halfCloseTimeoutMs: context.halfCloseTimeoutMs,
        qosOwner: context.qosOwner,
        qosRule: context.qosRule,
      },
      (result) => {
        if (result.reason === 'quota_exhausted')
          context.counters.add(context.row, rejectField('quota_exhausted'), 1);
        context.onClose(spliceFailure(result));
      },
    );
    if (id < 0) {
      context.onSpliceRefused(spliceErrnoCode(id));
      return fallback(client, upstream, context);
    }
    // The addon holds its own descriptors now; closing ours neither shuts down nor resets the
    // connections (no shutdown(2), no SO_LINGER on these).
    client.destroy();
    upstream.destroy();
    return {
      destroy: () => {
        if (!exiting) native.destroy(id);
      },
      quotaSpent: () => {
        if (!exiting) native.destroy(id, 'quota');
      },
    };
  };
}
