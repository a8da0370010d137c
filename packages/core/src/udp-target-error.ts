// What a failed upstream socket of a UDP flow means, on either path: out of descriptors (or
// memory) is this host's trouble, counted as an accept error and logged; anything else (an ICMP
// port unreachable, ...) is the target's, counted as a connect error.

import type { RuleSpec } from '@sluice/config';
import { formatListen } from '@sluice/config/address';
import { acceptErrorField, connectErrorField } from '@sluice/counters';
import type { BurstLog } from './burst-log.ts';
import { acceptErrorReason, connectErrorReason } from './errno-reasons.ts';
import type { RuleAccounts } from './relay-path.ts';

/** Counts the failure by its errno code; true when it is the host's (the flow ends, no failover). */
export function countUdpTargetError(
  accounts: RuleAccounts,
  burst: BurstLog,
  rule: RuleSpec,
  code: string | undefined,
): boolean {
  const exhausted = acceptErrorReason(code);
  if (exhausted !== null) {
    accounts.counters.add(accounts.row, acceptErrorField(exhausted), 1);
    burst.note(`accept ${code}`, 'warn', 'accept failed', {
      rule: rule.name,
      listen: formatListen(rule.listen),
      reason: exhausted,
      errno: code,
    });
    return true;
  }
  accounts.counters.add(accounts.row, connectErrorField(connectErrorReason(code)), 1);
  return false;
}
