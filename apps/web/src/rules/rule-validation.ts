// A rule form's table checked in the browser by the server's own schema (@sluice/config's
// ruleSchema through its `validate`, the call the server makes on a push), and the errors of
// both sides put next to the field they name. The server phrases a refused rule as
// `rule.listen: ...; rule.targets[0]: ...`, and a refused grant as `port: ...`, `protocol: ...`.

import { ruleSchema } from '@sluice/config/schema';
import { validate } from '@sluice/config/zod-issues';

/** Field name → the messages about it; `_` holds what names no field. */
export type FieldErrors = Readonly<Record<string, readonly string[]>>;

// What a not_granted or conflict message's leading word names in the form.
const ALIASES: Readonly<Record<string, string>> = { port: 'listen', ports: 'listen' };
// Codes whose message names no path but is about one field.
const CODE_FIELDS: Readonly<Record<string, string>> = { port_in_use: 'listen', name_taken: 'name' };
// activation_failed starts with the edge's reason code (`port_in_use: edge e1 could not ...`).
const REASON_FIELDS: Readonly<Record<string, string>> = { port_in_use: 'listen' };

function add(out: Record<string, string[]>, field: string, message: string): void {
  const list = out[field] ?? [];
  list.push(message);
  out[field] = list;
}

/** `rule.targets[1]` → `targets`; `rule.limits.bandwidth` → `limits.bandwidth`; `port` → `listen`. */
function fieldOf(path: string): string {
  const bare = path.replace(/^rule\./, '');
  const limit = /^limits\.([A-Za-z_]+)/.exec(bare)?.[1];
  if (limit !== undefined) return `limits.${limit}`;
  const head = /^[A-Za-z_]+/.exec(bare)?.[0] ?? '_';
  return ALIASES[head] ?? head;
}

/** The issues of a message made of `PATH: message` parts joined by `; `, by field. */
export function fieldErrorsOf(code: string, message: string): FieldErrors {
  const out: Record<string, string[]> = {};
  const byCode = CODE_FIELDS[code];
  if (byCode !== undefined) {
    add(out, byCode, message);
    return out;
  }
  if (code === 'activation_failed') {
    const reason = /^([a-z_]+): /.exec(message)?.[1] ?? '';
    add(out, REASON_FIELDS[reason] ?? '_', message);
    return out;
  }
  for (const part of message.split('; ')) {
    const at = /^((?:rule\.)?[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\]|\.[A-Za-z0-9_"*.-]+)*): (.*)$/s.exec(part);
    if (at === null) add(out, '_', part);
    else add(out, fieldOf(at[1]!), `${at[1]!.replace(/^rule\./, '')}: ${at[2]!}`);
  }
  return out;
}

/** null when the server's schema takes the rule table, else its issues by field. */
export function checkRule(table: Record<string, unknown>): FieldErrors | null {
  const result = validate(ruleSchema, table, ['rule']);
  if (result.ok) return null;
  return fieldErrorsOf(
    'bad_request',
    result.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
  );
}
