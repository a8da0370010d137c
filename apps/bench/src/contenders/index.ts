// Every contender, in the order the tables show them. Baselines first.

import type { Contender } from '../contender.ts';
import { cSpliceRelay } from './c-splice-relay.ts';
import { direct } from './direct.ts';
import { haproxy } from './haproxy.ts';
import { naivePipe } from './naive-pipe.ts';
import { nginx } from './nginx.ts';
import { redirect } from './redirect.ts';
import { sluiceJs1, sluiceJsN, sluiceSplice1, sluiceSpliceN } from './sluice-edge.ts';
import { socat } from './socat.ts';

export const CONTENDERS: readonly Contender[] = [
  direct,
  redirect,
  cSpliceRelay,
  naivePipe,
  sluiceSplice1,
  sluiceSpliceN,
  sluiceJs1,
  sluiceJsN,
  haproxy,
  nginx,
  socat,
];

export const CONTENDER_IDS: readonly string[] = CONTENDERS.map((c) => c.id);
