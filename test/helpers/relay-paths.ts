// The relay paths every data-plane test runs over: the native connection path (TCP: the addon
// accepts, connects and splices; the default when the addon loads and the rule qualifies), the
// splice addon behind JS accept and connect (SLUICE_NO_NATIVE_ACCEPT=1; for UDP both of these are
// the addon's batched flow path), and the JS relay (SLUICE_NO_SPLICE=1: node:net and node:dgram).

export type RelayPath = 'js' | 'native' | 'splice';

export const RELAY_PATHS: readonly RelayPath[] = ['native', 'splice', 'js'];

/** UDP has two paths: the addon's flow path (native and splice are the same for it) and node:dgram. */
export const UDP_PATHS: readonly RelayPath[] = ['splice', 'js'];

/** Environment that selects `path` in the edge. */
export function relayPathEnv(path: RelayPath): Record<string, string> {
  switch (path) {
    case 'js':
      return { SLUICE_NO_SPLICE: '1' };
    case 'splice':
      return { SLUICE_NO_NATIVE_ACCEPT: '1' };
    case 'native':
      return {};
  }
}

/** Whether bytes on `path` move through the splice relay (pipes, urgent-byte counts, ...). */
export function splices(path: RelayPath | 'kernel'): boolean {
  return path === 'native' || path === 'splice';
}
