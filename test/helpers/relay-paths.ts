// The TCP relay paths every data-plane test runs over: the splice(2) addon (the default when it
// loads) and the JS relay (SLUICE_NO_SPLICE=1).

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
