// Which port a target gets for a connection accepted on one port of a rule's listen range: a
// target without a port, or with a range as wide as the listen range, keeps the same offset;
// a single-port target takes every listen port.

import type { ListenSpec, TargetSpec } from '@sluice/config';

export function targetPort(target: TargetSpec, listen: ListenSpec, listenPort: number): number {
  if (target.portLo === null) return listenPort;
  if (target.portHi === null || target.portHi === target.portLo) return target.portLo;
  return target.portLo + (listenPort - listen.portLo);
}

/** Every port of the listen, lowest first. */
export function listenPorts(listen: ListenSpec): number[] {
  return Array.from({ length: listen.portHi - listen.portLo + 1 }, (_, i) => listen.portLo + i);
}

/**
 * Binds every port of the listen, or none: the first port that fails is answered, after `unbind`
 * closed the ports bound before it.
 */
export async function bindEveryPort<E>(
  listen: ListenSpec,
  bindPort: (port: number) => Promise<E | null>,
  unbind: () => void,
): Promise<E | null> {
  for (const port of listenPorts(listen)) {
    const error = await bindPort(port);
    if (error) {
      unbind();
      return error;
    }
  }
  return null;
}
