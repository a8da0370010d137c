// A JSON import, not a read beside this file: the release bundles this module, and its bundler
// inlines the manifest.
import manifest from '../package.json' with { type: 'json' };

export const SERVER_VERSION: string = manifest.version;

export function versionLine(): string {
  return `sluice-server ${SERVER_VERSION} (node ${process.version})`;
}
