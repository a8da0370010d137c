// The config reader's thread (config-reader.ts) starts here. Plain JavaScript, so that the
// pre-stripped sources are in place before any TypeScript loads, as a shard's do (shard-boot.js).
// The release bundles config-reader-entry.ts under this file's name.
import { useStrippedSources } from '@sluice/core/stripped-sources';

useStrippedSources();
await import('./config-reader-entry.ts');
