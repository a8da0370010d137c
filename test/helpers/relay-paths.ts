// The relay paths every data-plane test runs over: the splice addon (the default when it loads:
// splice(2) for TCP, its batched flow path for UDP) and the JS relay (SLUICE_NO_SPLICE=1:
// node:net and node:dgram).

export type RelayPath = 'js' | 'splice';

export const RELAY_PATHS: readonly RelayPath[] = ['splice', 'js'];

/** Environment that selects `path` in the edge. */
export function relayPathEnv(path: RelayPath): Record<string, string> {
  switch (path) {
    case 'js':
      return { SLUICE_NO_SPLICE: '1' };
    case 'splice':
      return {};
  }
}
