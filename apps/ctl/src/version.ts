// sluicectl's version, from its package.json.

import manifest from '../package.json' with { type: 'json' };

export const CTL_VERSION: string = manifest.version;
