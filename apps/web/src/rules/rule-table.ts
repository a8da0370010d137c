// The rule form's values (all text, as inputs hold them) to a `[[rules]]` table in the config's
// keys, and back. Empty inputs are left out, so the schema's defaults apply; a number input is
// sent as a number only when it reads as one, so the schema names a wrong one.

export type RuleFormValues = Record<string, string>;

const NUMBER_KEYS = [
  'connect_timeout_ms',
  'idle_timeout_secs',
  'half_close_timeout_secs',
  'max_flows',
  'health_check_interval_secs',
] as const;
const TEXT_KEYS = ['name', 'listen', 'protocol', 'balance', 'proxy_protocol', 'udp_receive_buffer'] as const;
const BOOLEAN_KEYS = ['accept_proxy', 'prefer_ipv6'] as const;
const LIMIT_TEXT_KEYS = ['bandwidth', 'bandwidth_in', 'bandwidth_out', 'burst'] as const;
const LIMIT_NUMBER_KEYS = ['new_connections_per_sec', 'new_connections_burst', 'max_connections'] as const;

function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** The table a form's values describe. `sni` is one `NAME = TARGET` per line. */
export function tableOf(values: RuleFormValues): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const key of TEXT_KEYS) {
    const value = (values[key] ?? '').trim();
    if (value !== '') table[key] = value;
  }
  for (const key of NUMBER_KEYS) {
    if ((values[key] ?? '').trim() !== '') table[key] = numberOrText(values[key]!);
  }
  for (const key of BOOLEAN_KEYS) if (values[key] === 'true') table[key] = true;
  const targets = lines(values.targets ?? '');
  if (targets.length > 0) table.targets = targets;
  const sni = lines(values.sni ?? '');
  if (sni.length > 0) {
    table.sni = Object.fromEntries(
      sni.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
      }),
    );
  }
  const limits: Record<string, unknown> = {};
  for (const key of LIMIT_TEXT_KEYS) {
    const value = (values[`limits.${key}`] ?? '').trim();
    if (value !== '') limits[key] = value;
  }
  for (const key of LIMIT_NUMBER_KEYS) {
    const value = values[`limits.${key}`] ?? '';
    if (value.trim() !== '') limits[key] = numberOrText(value);
  }
  if (Object.keys(limits).length > 0) table.limits = limits;
  return table;
}

/** A stored rule table as the form's values (for editing). */
export function valuesOf(table: Record<string, unknown>): RuleFormValues {
  const values: RuleFormValues = {};
  for (const key of [...TEXT_KEYS, ...NUMBER_KEYS]) {
    if (table[key] !== undefined) values[key] = String(table[key]);
  }
  for (const key of BOOLEAN_KEYS) if (table[key] === true) values[key] = 'true';
  if (Array.isArray(table.targets)) values.targets = table.targets.join('\n');
  if (typeof table.sni === 'object' && table.sni !== null) {
    values.sni = Object.entries(table.sni)
      .map(([name, target]) => `${name} = ${String(target)}`)
      .join('\n');
  }
  if (typeof table.limits === 'object' && table.limits !== null) {
    for (const [key, value] of Object.entries(table.limits)) values[`limits.${key}`] = String(value);
  }
  return values;
}
