// docs/errors.md, made from every area's error table. `./run docs:errors` rewrites the page;
// test/errors-doc.test.ts fails when the committed page differs from what the tables make.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_ERRORS } from '@sluice/api';
import { BENCH_ERRORS } from '@sluice/bench';
import { CONFIG_ERRORS } from '@sluice/config';
import { CORE_ERRORS, DNS_ERRORS, PROXY_HEADER_ERRORS } from '@sluice/core';
import { CTL_ERRORS } from '@sluice/ctl/errors';
import { EDGE_ERRORS } from '@sluice/edge/errors';
import { type DocumentedArea, errorsMarkdown } from '@sluice/errors';
import { IPERF3_ERRORS } from '@sluice/iperf3';
import { FRAME_ERRORS } from '@sluice/protocol';
import { SERVER_ERRORS } from '@sluice/server/errors';

export const ERROR_AREAS: readonly DocumentedArea[] = [
  { title: 'Config files', errors: CONFIG_ERRORS },
  { title: 'Data plane: binding rules', errors: CORE_ERRORS },
  { title: 'Data plane: DNS-name targets', errors: DNS_ERRORS },
  { title: 'Data plane: PROXY protocol headers read from a peer', errors: PROXY_HEADER_ERRORS },
  { title: 'Control session framing (server and edge)', errors: FRAME_ERRORS },
  { title: 'sluice-edge: enrollment and managed mode', errors: EDGE_ERRORS },
  { title: 'Operator API (sluice-server, answered to sluicectl and every client)', errors: API_ERRORS },
  { title: 'sluice-server commands', errors: SERVER_ERRORS },
  { title: 'sluicectl', errors: CTL_ERRORS },
  { title: 'sluice-bench', errors: BENCH_ERRORS },
  { title: 'iperf3 wrapper (in bench reports)', errors: IPERF3_ERRORS },
];

export const ERRORS_DOC = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

export function errorsDocument(): string {
  return errorsMarkdown(ERROR_AREAS);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ERRORS_DOC, errorsDocument());
  process.stdout.write(`wrote ${ERRORS_DOC}\n`);
}
