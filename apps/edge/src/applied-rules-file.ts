// The managed edge's last applied rules on disk, beside the bundle, both files mode 0600: every
// rule that ran, as the server pushed it, the owners' tables and their quotas. An edge that
// starts while its server is away applies them and forwards; the server's full push on the first
// session then reconciles (rules removed meanwhile stop, changed ones change, the rest keep their
// listeners). So a control-plane outage never takes forwarding down, even across an edge restart.
//
// Two files, so that a push costs the rules it changed and not the whole set:
// - `FILE`, the snapshot: the whole set, replaced through a temporary file renamed over it (a
//   reader sees the old or the new, never a part). It names its journal's `generation`.
// - `FILE.journal`, one JSON line per saved push: the rules it added or changed, the ids it
//   removed, the owners' tables and quotas when they changed. Lines of another generation are
//   not this snapshot's and are skipped; a bad line (torn by a crash mid-append) ends the
//   journal there, and the reader says so.
// A new snapshot (a full push, or a journal grown past the snapshot's size) starts a new
// generation and an empty journal. Without its snapshot a journal means nothing: deleting `FILE`
// is enough to stop an edge resuming.

import { randomBytes } from 'node:crypto';
import { appendFile, readFile, rm } from 'node:fs/promises';
import { type PushedRule, pushedRuleSchema, type QuotaBudget, quotaBudgetSchema } from '@sluice/protocol';
import { z } from 'zod';
import { PRIVATE_FILE_MODE, parseJson, readPrivateJson, writePrivateFile } from './private-file.ts';

const ownersSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
const quotasSchema = z.record(z.string(), quotaBudgetSchema);

const appliedRulesSchema = z
  .object({
    version: z.literal(1),
    edgeId: z.string(),
    /** When the push this reflects was applied (ISO 8601), for the log at resume. */
    savedAt: z.string(),
    /** The journal lines that belong to this snapshot; absent in files written before the journal. */
    generation: z.string().optional(),
    upsert: z.array(pushedRuleSchema),
    owners: ownersSchema,
    quotas: quotasSchema,
  })
  .strict();
export type AppliedRulesState = z.infer<typeof appliedRulesSchema>;

const journalLineSchema = z
  .object({
    generation: z.string(),
    /** 1 for the first line of a generation, then one more each line. */
    seq: z.number().int().positive(),
    savedAt: z.string(),
    upsert: z.array(pushedRuleSchema),
    remove: z.array(z.string()),
    owners: ownersSchema.optional(),
    quotas: quotasSchema.optional(),
  })
  .strict();
type JournalLine = z.infer<typeof journalLineSchema>;

/** What a saved push changed in the applied set. */
export interface AppliedChange {
  readonly upsert: readonly PushedRule[];
  readonly remove: readonly string[];
  readonly owners?: Record<string, Record<string, unknown>>;
  readonly quotas?: Record<string, QuotaBudget>;
}

export type ReadAppliedRules =
  | {
      readonly state: AppliedRulesState;
      /** Why the journal was not read to its end (a damaged line); null when it was. */
      readonly journalCut: string | null;
    }
  | { readonly state: null; readonly reason: string | null };

/** The journal of `file`. */
export function journalOf(file: string): string {
  return `${file}.journal`;
}

/**
 * The rules this edge last applied, the journal applied over its snapshot, or why there are none
 * to resume: none saved (first start), or a snapshot that is unreadable, damaged or another edge's.
 */
export async function readAppliedRules(file: string, edgeId: string): Promise<ReadAppliedRules> {
  const snapshot = await readPrivateJson(file, appliedRulesSchema, edgeId, 'rules');
  if (snapshot.state === null) return snapshot;
  const { generation } = snapshot.state;
  if (generation === undefined) return { state: snapshot.state, journalCut: null };
  let text: string;
  try {
    text = await readFile(journalOf(file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: snapshot.state, journalCut: null };
    return { state: snapshot.state, journalCut: `${journalOf(file)}: ${code ?? String(err)}` };
  }
  const rules = new Map(snapshot.state.upsert.map((rule) => [rule.id, rule]));
  let { owners, quotas, savedAt } = snapshot.state;
  let seq = 0;
  let journalCut: string | null = null;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!;
    if (raw === '') continue;
    const line = parseJson(raw, journalLineSchema, 'line');
    const where = `${journalOf(file)}: line ${index + 1}`;
    if (typeof line === 'string') {
      // A crash mid-append leaves a torn last line; the lines before a bad one still stand.
      journalCut = `${where}: ${line}`;
      break;
    }
    if (line.generation !== generation) continue;
    if (line.seq !== seq + 1) {
      journalCut = `${where}: seq ${line.seq} after ${seq}`;
      break;
    }
    seq = line.seq;
    for (const id of line.remove) rules.delete(id);
    for (const rule of line.upsert) rules.set(rule.id, rule);
    if (line.owners !== undefined) owners = line.owners;
    if (line.quotas !== undefined) quotas = line.quotas;
    savedAt = line.savedAt;
  }
  return { state: { ...snapshot.state, savedAt, upsert: [...rules.values()], owners, quotas }, journalCut };
}

/**
 * Writes the applied rules: `snapshot` replaces both files, `append` adds one journal line. One
 * writer per file, one call at a time (the caller awaits each).
 */
export class AppliedRulesWriter {
  private generation: string | null = null;
  private seq = 0;
  private snapshotBytes = 0;
  private journalBytes = 0;

  readonly file: string;
  private readonly edgeId: string;

  constructor(file: string, edgeId: string) {
    this.file = file;
    this.edgeId = edgeId;
  }

  /** Whether the next save should be a snapshot: none written yet, or a journal as big as it. */
  get wantsSnapshot(): boolean {
    return this.generation === null || this.journalBytes >= Math.max(this.snapshotBytes, 64 * 1024);
  }

  /** Replaces the snapshot with `state` and starts an empty journal. */
  async snapshot(state: Omit<AppliedRulesState, 'version' | 'edgeId' | 'generation'>): Promise<void> {
    const generation = randomBytes(8).toString('hex');
    const text = JSON.stringify({ version: 1, edgeId: this.edgeId, generation, ...state });
    // Until the rename the old snapshot and its journal stand; after it, the old journal's
    // lines are of another generation: removing them is only tidying.
    await writePrivateFile(this.file, text);
    await rm(journalOf(this.file), { force: true });
    this.generation = generation;
    this.seq = 0;
    this.snapshotBytes = text.length;
    this.journalBytes = 0;
  }

  /** Appends `change` to the journal of the last snapshot, which must exist. */
  async append(change: AppliedChange): Promise<void> {
    if (this.generation === null) throw new Error('applied rules: a journal line before any snapshot');
    const line: JournalLine = {
      generation: this.generation,
      seq: this.seq + 1,
      savedAt: new Date().toISOString(),
      upsert: [...change.upsert],
      remove: [...change.remove],
      ...(change.owners === undefined ? {} : { owners: change.owners }),
      ...(change.quotas === undefined ? {} : { quotas: change.quotas }),
    };
    const text = `${JSON.stringify(line)}\n`;
    await appendFile(journalOf(this.file), text, { mode: PRIVATE_FILE_MODE });
    this.seq = line.seq;
    this.journalBytes += text.length;
  }

  /** Removes both files (a revoked edge must not come back forwarding). */
  async remove(): Promise<void> {
    await rm(this.file, { force: true });
    await rm(journalOf(this.file), { force: true });
    this.generation = null;
  }
}
