// The text of src/api/openapi.d.ts as openapi-typescript makes it from docs/openapi.json. Used by
// the generator script and by the test that fails when the committed file is stale. Node-only:
// the console's bundle never imports it.

import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const OPENAPI_FILE = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url));
export const API_TYPES_FILE = fileURLToPath(new URL('./openapi.d.ts', import.meta.url));

const BANNER =
  '// Generated from docs/openapi.json by apps/web/scripts/gen-api-types.ts (pnpm --filter @sluice/web gen:api).\n// Do not edit: src/api/openapi-types.test.ts fails when this file is stale.\n\n';

export async function apiTypesSource(): Promise<string> {
  const ast = await openapiTS(new URL(`file://${OPENAPI_FILE}`));
  return BANNER + astToString(ast);
}
