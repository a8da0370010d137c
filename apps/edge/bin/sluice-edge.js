#!/usr/bin/env node
// The binary runs the TypeScript source, served pre-stripped (see @sluice/core's
// stripped-sources.js) so that Node's own type-stripping compiler is never started; the
// import is dynamic because a static one would load main.ts before the hook is in place.
import { useStrippedSources } from '@sluice/core/stripped-sources';

useStrippedSources();
await import('../src/main.ts');
