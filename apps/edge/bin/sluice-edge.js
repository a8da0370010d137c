#!/usr/bin/env node
// The binary runs the TypeScript source, served pre-stripped (see @sluice/core's
// stripped-sources.js) so that Node's own type-stripping compiler is never started; the
// import is dynamic because a static one would load main.ts before the hook is in place.
import { useStrippedSources } from '@sluice/core/stripped-sources';

// Node's --max-semi-space-size=1 is given on the command line (the root script `edge`, the
// release's launcher), not set from here: V8 sizes the main thread's heap at start, and the flag
// set later reached only the shards. The flag also overrides the shards' resourceLimits.
useStrippedSources();
await import('../src/main.ts');
