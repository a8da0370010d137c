// A shard's first module: serves TypeScript stripped ahead of time (stripped-sources.js) before
// the shard's own modules load, so the thread never starts Node's type-stripping compiler.
import { useStrippedSources } from './stripped-sources.js';

useStrippedSources();
await import('./shard-entry.ts');
