// Which path a UDP rule runs on: the addon's batched flow path when the splice addon is loaded
// on this thread (selectRelayPath has given it the counters and QoS buffers) and the listen
// host is an IP address, the JS path (node:dgram) otherwise.

import { isIP } from 'node:net';
import type { RuleSpec } from '@sluice/config';
import { loadSplice } from '@sluice/splice';
import type { RuleAccounts } from './relay-path.ts';
import type { ShardRule, ShardServices } from './shard-rule.ts';
import { NativeUdpRule } from './udp-native-rule.ts';
import { UdpRule } from './udp-rule.ts';

export function createUdpRule(rule: RuleSpec, accounts: RuleAccounts, services: ShardServices): ShardRule {
  const native = loadSplice();
  if (native !== null && isIP(rule.listen.host) !== 0)
    return new NativeUdpRule(rule, accounts, services, native);
  return new UdpRule(rule, accounts, services);
}
