// A TLS connection to the server that trusts exactly the pinned certificate. Chain checks are
// off (the server's certificate is self-signed); instead the certificate's SHA-256 is compared
// with the pin on 'secureConnect', before the caller gets the socket and can write anything.

import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { type ControlAddress, checkPin, fingerprint, formatControlAddress } from '@sluice/protocol';
import { EDGE_ERRORS, type EdgeError } from './errors.ts';

export interface PinnedTarget extends ControlAddress {
  readonly pin: string;
}

export function serverLabel(target: ControlAddress): string {
  return formatControlAddress(target);
}

/** Resolves with a socket whose peer matched the pin; rejects with an EdgeError otherwise. */
export function connectPinned(target: PinnedTarget, timeoutMs: number): Promise<TLSSocket> {
  const server = serverLabel(target);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: false,
      // SNI carries names only; an IP literal there is not allowed.
      ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
    });
    const fail = (error: EdgeError): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(EDGE_ERRORS.error('timeout', { server, ms: timeoutMs })), timeoutMs);
    const onError = (err: NodeJS.ErrnoException): void => {
      fail(
        EDGE_ERRORS.error('server_unreachable', {
          server,
          reason: err.code ? `${err.code} (${err.message})` : err.message,
        }),
      );
    };
    const onClose = (): void => fail(EDGE_ERRORS.error('server_closed', { server }));
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('secureConnect', () => {
      const mismatch = checkPin(socket, target.pin);
      if (mismatch !== null) {
        const raw = socket.getPeerCertificate()?.raw;
        fail(
          EDGE_ERRORS.error('pin_mismatch', {
            server,
            seen: raw ? fingerprint(raw) : 'none (no certificate)',
            pin: target.pin,
          }),
        );
        return;
      }
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve(socket);
    });
  });
}
