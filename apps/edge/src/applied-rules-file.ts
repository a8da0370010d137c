// The managed edge's last applied rules on disk, beside the bundle (mode 0600, a temporary file
// renamed over the last one): every rule that ran, as the server pushed it, the owners' tables
// and their quotas, rewritten after each push. An edge that starts while its server is away
// applies this file and forwards; the server's full push on the first session then reconciles
// (rules removed meanwhile stop, changed ones change, the rest keep their listeners). So a
// control-plane outage never takes forwarding down, even across an edge restart.

import { pushedRuleSchema, quotaBudgetSchema } from '@sluice/protocol';
import { z } from 'zod';
import { readPrivateJson, writePrivateFile } from './private-file.ts';

const appliedRulesSchema = z
  .object({
    version: z.literal(1),
    edgeId: z.string(),
    /** When the push this reflects was applied (ISO 8601), for the log at resume. */
    savedAt: z.string(),
    upsert: z.array(pushedRuleSchema),
    owners: z.record(z.string(), z.record(z.string(), z.unknown())),
    quotas: z.record(z.string(), quotaBudgetSchema),
  })
  .strict();
export type AppliedRulesState = z.infer<typeof appliedRulesSchema>;

/**
 * The rules this edge last applied, or why there are none to resume: none saved (first start),
 * or a file that is unreadable, damaged or another edge's.
 */
export function readAppliedRules(
  file: string,
  edgeId: string,
): Promise<{ state: AppliedRulesState } | { state: null; reason: string | null }> {
  return readPrivateJson(file, appliedRulesSchema, edgeId, 'rules');
}

/** Replaces the rules file; readers see the old file or the new, never a part. */
export function writeAppliedRules(file: string, state: AppliedRulesState): Promise<void> {
  return writePrivateFile(file, JSON.stringify(state));
}
