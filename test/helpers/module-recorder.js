// Preloaded with `node --import` (and so in every worker thread too): appends each module a
// thread loads to SLUICE_MODULE_RECORD/<threadId>.txt, and `type-stripper` once Node's own
// TypeScript compiler (amaro) has been started in that thread. Plain JavaScript, so recording
// starts nothing it looks for.

import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

const file = join(process.env.SLUICE_MODULE_RECORD, `${threadId}.txt`);
let stripperSeen = false;

function checkStripper() {
  if (stripperSeen || !process.moduleLoadList.some((name) => name.includes('amaro'))) return;
  stripperSeen = true;
  appendFileSync(file, 'type-stripper\n');
}

registerHooks({
  load(url, context, nextLoad) {
    checkStripper();
    appendFileSync(file, `${url}\n`);
    // After this module is translated (and stripped, if Node strips it).
    setTimeout(checkStripper, 0).unref();
    return nextLoad(url, context);
  },
});
