// The TCP relay paths every data-plane test runs over. The splice path joins this list when the
// native addon lands (its env is the default one: no SLUICE_NO_SPLICE).

export type RelayPath = 'js';

export const RELAY_PATHS: readonly RelayPath[] = ['js'];

/** Environment that selects `path` in the edge. */
export function relayPathEnv(path: RelayPath): Record<string, string> {
  switch (path) {
    case 'js':
      return { SLUICE_NO_SPLICE: '1' };
  }
}
