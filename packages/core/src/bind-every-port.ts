// A rule binds every port of its listen range or none, whatever its protocol: a half-bound
// range would serve some ports while the operator reads a failure.

import type { ListenSpec } from '@sluice/config';
import type { CoreErrorData } from './errors.ts';
import { listenPorts } from './port-map.ts';

/**
 * Binds the ports lowest first; at the first that fails, calls `unbind` to close the ones bound
 * and answers that port's error. Answers null when all are bound.
 */
export async function bindEveryPort(
  listen: ListenSpec,
  bindPort: (port: number) => Promise<CoreErrorData | null>,
  unbind: () => void,
): Promise<CoreErrorData | null> {
  for (const port of listenPorts(listen)) {
    const error = await bindPort(port);
    if (error) {
      unbind();
      return error;
    }
  }
  return null;
}
