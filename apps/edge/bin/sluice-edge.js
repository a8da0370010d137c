#!/usr/bin/env node
// The binary runs the TypeScript source, served pre-stripped (see @sluice/core's
// stripped-sources.js) so that Node's own type-stripping compiler is never started; the
// import is dynamic because a static one would load main.ts before the hook is in place.
import { setFlagsFromString } from 'node:v8';
import { useStrippedSources } from '@sluice/core/stripped-sources';

// The main thread relays nothing, so V8's default 16 MiB semi-spaces only hold start-up
// garbage resident. Shards set their own young generation (shard-pool.ts).
setFlagsFromString('--max-semi-space-size=1');
useStrippedSources();
await import('../src/main.ts');
