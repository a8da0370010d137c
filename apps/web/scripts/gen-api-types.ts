// Writes src/api/openapi.d.ts from docs/openapi.json (the API's contract, itself made from
// @sluice/api's route table). src/api/openapi-types.test.ts fails when the file is stale.

import { writeFileSync } from 'node:fs';
import { API_TYPES_FILE, apiTypesSource } from '../src/api/api-types-source.ts';

writeFileSync(API_TYPES_FILE, await apiTypesSource());
console.log(`wrote ${API_TYPES_FILE}`);
