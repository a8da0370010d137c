// `pnpm docs:openapi`: writes docs/openapi.json from the route table. A test fails when the
// committed file is stale.

import { writeFileSync } from 'node:fs';
import { openApiDocument } from './openapi.ts';

export const OPENAPI_FILE = new URL('../../../docs/openapi.json', import.meta.url);

if (import.meta.main) {
  writeFileSync(OPENAPI_FILE, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  console.log(`wrote ${OPENAPI_FILE.pathname}`);
}
