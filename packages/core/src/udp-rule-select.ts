// Which path a UDP rule runs on: the addon's batched flow path when the splice addon is loaded
// on this thread (selectRelayPath has given it the counters and QoS buffers) and the addon
// reads the listen host (an IP literal without a zone), the JS path (node:dgram) otherwise.

import type { RuleSpec } from '@sluice/config';
import { loadSplice } from '@sluice/splice';
import { addonReadsAddress } from './native-address.ts';
import type { RuleAccounts } from './relay-path.ts';
import type { ShardRule, ShardServices } from './shard-rule.ts';
import { NativeUdpRule } from './udp-native-rule.ts';
import { UdpRule } from './udp-rule.ts';

export function createUdpRule(rule: RuleSpec, accounts: RuleAccounts, services: ShardServices): ShardRule {
  const native = loadSplice();
  if (native !== null && addonReadsAddress(rule.listen.host))
    return new NativeUdpRule(rule, accounts, services, native);
  return new UdpRule(rule, accounts, services);
}
