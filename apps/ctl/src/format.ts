// What sluicectl prints for people: borderless tables (cli-table3) and a few lines of text.
// `--format json` bypasses all of this and prints the API's body (formatJson). Byte totals are
// in binary units (KiB, MiB) and rates in bits per second (kbit/s, Mbit/s), the units a
// `bandwidth = "100Mbit"` cap is usually written in.

import type { ApiToken, Edge, Enrollment, Rule, RuleStats, User } from '@sluice/api';
import Table from 'cli-table3';
import { paintState } from './color.ts';

export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** The API body as it came, for scripts. */
export function formatJson(body: unknown): string {
  return `${JSON.stringify(body, null, 2)}\n`;
}

/**
 * Columns padded to line up, no borders: readable, and easy to grep or cut. Cells may carry
 * colour (color.ts): cli-table3 pads by the text's visible width.
 */
export function renderTable(head: readonly string[] | null, rows: readonly (readonly string[])[]): string {
  const table = new Table({
    ...(head === null ? {} : { head: [...head] }),
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push([...row]);
  const lines = table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd());
  return `${lines.join('\n')}\n`;
}

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const SI_BITS = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];

function scaled(value: number, base: number, units: readonly string[]): string {
  let amount = value;
  let unit = 0;
  while (Math.abs(amount) >= base && unit < units.length - 1) {
    amount /= base;
    unit += 1;
  }
  const text =
    unit === 0 ? String(Math.round(amount)) : amount.toFixed(amount < 10 ? 2 : amount < 100 ? 1 : 0);
  return `${text} ${units[unit]}`;
}

export function formatBytes(bytes: number): string {
  return scaled(bytes, 1024, IEC);
}

export function formatRate(bytesPerSec: number): string {
  return scaled(bytesPerSec * 8, 1000, SI_BITS);
}

function toDate(time: string | number): Date | null {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A time to the second, in UTC: `2026-03-01 12:00:05Z`. */
export function formatTime(time: string | number | null | undefined): string {
  if (time === null || time === undefined) return '-';
  const date = toDate(time);
  if (date === null) return String(time);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** How long ago, coarsely: `just now`, `42s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function formatAge(time: string | number | null | undefined, now: number): string {
  if (time === null || time === undefined) return 'never';
  const date = toDate(time);
  if (date === null) return String(time);
  const secs = Math.round((now - date.getTime()) / 1000);
  if (secs < 1) return 'just now';
  if (secs < 60) return `${secs}s ago`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m ago`;
  if (secs < 86_400) return `${Math.floor(secs / 3600)}h ago`;
  return `${Math.floor(secs / 86_400)}d ago`;
}

function edgeState(edge: Edge): string {
  if (edge.revoked) return 'revoked';
  return edge.connected ? 'connected' : 'offline';
}

export function formatEdges(edges: readonly Edge[], now: number, color = false): string {
  if (edges.length === 0) return 'no edges; enroll one with: sluicectl enroll NAME\n';
  return renderTable(
    ['NAME', 'ID', 'STATE', 'VERSION', 'RULES', 'LAST SEEN', 'ENROLLED'],
    edges.map((edge) => {
      const state = edgeState(edge);
      return [
        edge.name,
        String(edge.id),
        paintState(state, state, color),
        edge.version === null || edge.version === undefined ? '-' : String(edge.version),
        String(edge.rules),
        formatAge(edge.lastSeenAt, now),
        formatTime(edge.enrolledAt),
      ];
    }),
  );
}

export function formatEdgeChange(edge: Edge, what: string): string {
  return `edge ${edge.name} (${edge.id}) ${what}\n`;
}

export function formatEnrollment(enrollment: Enrollment): string {
  return [
    `enrollment code for edge ${enrollment.edge.name} (${enrollment.edge.id}), valid until ${formatTime(enrollment.expiresAt)}`,
    `uri: ${enrollment.uri}`,
    'on the edge, run:',
    `  ${enrollment.command}`,
    '',
  ].join('\n');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `tcp 0.0.0.0:8080`, from the rule table (the server fills in the protocol's default). */
export function ruleListen(rule: Rule): string {
  const table = rule.rule;
  return `${text(table.protocol) ?? 'tcp'} ${text(table.listen) ?? '?'}`;
}

/** The targets, then the SNI routes as `name->target`. */
export function ruleTargets(rule: Rule): string {
  const table = rule.rule;
  const targets = Array.isArray(table.targets) ? table.targets.map(String) : [];
  const sni =
    typeof table.sni === 'object' && table.sni !== null && !Array.isArray(table.sni)
      ? Object.entries(table.sni).map(([name, target]) => `${name}->${String(target)}`)
      : [];
  const all = [...sni, ...targets];
  return all.length === 0 ? '-' : all.join(', ');
}

/** `active`, or `failed (bind_failed)` when the edge gave a reason. */
export function ruleState(rule: Rule): string {
  return rule.reason === null || rule.reason === undefined || rule.reason === ''
    ? rule.state
    : `${rule.state} (${rule.reason})`;
}

export function formatRules(rules: readonly Rule[], color = false): string {
  if (rules.length === 0) return 'no rules\n';
  return renderTable(
    ['ID', 'EDGE', 'NAME', 'OWNER', 'STATE', 'LISTEN', 'TARGETS', 'REV'],
    rules.map((rule) => [
      String(rule.id),
      rule.edge.name,
      rule.name,
      rule.owner,
      paintState(rule.state, ruleState(rule), color),
      ruleListen(rule),
      ruleTargets(rule),
      String(rule.revision),
    ]),
  );
}

/** One rule, a field a line, after a sentence saying what happened to it. */
export function formatRule(rule: Rule, headline: string, color = false): string {
  const rows: [string, string][] = [
    ['id', String(rule.id)],
    ['edge', `${rule.edge.name} (${rule.edge.id})`],
    ['name', rule.name],
    ['owner', rule.owner],
    ['state', paintState(rule.state, rule.state, color)],
    ['listen', ruleListen(rule)],
    ['targets', ruleTargets(rule)],
    ['revision', String(rule.revision)],
  ];
  if (rule.message) rows.push(['message', rule.message]);
  if (rule.rule.limits !== undefined) rows.push(['limits', JSON.stringify(rule.rule.limits)]);
  return `${headline}\n${renderTable(null, rows)}`;
}

export function formatStats(stats: RuleStats): string {
  return renderTable(null, [
    ['rule', String(stats.rule)],
    ['at', formatTime(stats.at)],
    ['bytes in', formatBytes(stats.bytesIn)],
    ['bytes out', formatBytes(stats.bytesOut)],
    ['rate in', formatRate(stats.bytesInPerSec)],
    ['rate out', formatRate(stats.bytesOutPerSec)],
    ['connections', String(stats.connectionsTotal)],
    ['active', String(stats.activeConnections)],
    ['rejected', `${stats.rejected}${byReason(stats.rejectedByReason)}`],
    ['connect errors', String(stats.connectErrors)],
  ]);
}

/** ` (reason n, ...)`, most first; nothing when no reason has a count. */
function byReason(counts: Readonly<Record<string, number>>): string {
  const seen = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return seen.length === 0 ? '' : ` (${seen.map(([reason, n]) => `${reason} ${n}`).join(', ')})`;
}

/** One line per stats update for `rule-stats --watch`. */
export function formatStatsLine(stats: RuleStats): string {
  return [
    formatTime(stats.at),
    `in ${formatRate(stats.bytesInPerSec)}`,
    `out ${formatRate(stats.bytesOutPerSec)}`,
    `active ${stats.activeConnections}`,
    `conns ${stats.connectionsTotal}`,
    `rejected ${stats.rejected}`,
    `errors ${stats.connectErrors}`,
    `total ${formatBytes(stats.bytesIn)} in / ${formatBytes(stats.bytesOut)} out`,
  ].join('  ');
}

function userState(user: User): string {
  if (user.disabled) return 'disabled';
  if (user.mustChangePassword) return 'must change password';
  return user.hasPassword ? 'password' : 'tokens only';
}

export function formatUsers(users: readonly User[]): string {
  return renderTable(
    ['NAME', 'ID', 'ROLE', 'STATE', 'DISPLAY NAME', 'CREATED'],
    users.map((user) => [
      user.name,
      user.id,
      user.role,
      userState(user),
      user.displayName,
      formatTime(user.createdAt),
    ]),
  );
}

export function formatUser(user: User, headline: string): string {
  return `${headline}
${renderTable(null, [
  ['role', user.role],
  ['state', userState(user)],
  ['display name', user.displayName],
  ['created', formatTime(user.createdAt)],
])}`;
}

export function formatTokens(tokens: readonly ApiToken[], now: number): string {
  if (tokens.length === 0) return 'no tokens; make one with: sluicectl token create NAME\n';
  return renderTable(
    ['NAME', 'ID', 'STATE', 'CREATED', 'LAST USED'],
    tokens.map((token) => [
      token.name,
      token.id,
      token.revoked ? 'revoked' : 'live',
      formatTime(token.createdAt),
      token.lastUsedAt === null ? 'never' : formatAge(token.lastUsedAt, now),
    ]),
  );
}
