import { stripVTControlCharacters } from 'node:util';
import { type Edge, type Rule, type RuleStats, ruleStatsSchema } from '@sluice/api';
import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatBytes,
  formatEdges,
  formatEnrollment,
  formatJson,
  formatRate,
  formatRule,
  formatRules,
  formatStats,
  formatStatsLine,
  formatTime,
  renderTable,
} from './format.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');

const EDGES: Edge[] = [
  {
    id: 'e1',
    name: 'edge-01',
    connected: true,
    revoked: false,
    version: 1,
    lastSeenAt: '2026-03-01T11:59:58Z',
    enrolledAt: '2026-02-01T08:00:00.123Z',
    rules: 2,
  },
  {
    id: 'e2',
    name: 'edge-02',
    connected: false,
    revoked: true,
    version: null,
    lastSeenAt: null,
    enrolledAt: '2026-02-02T08:00:00.000Z',
    rules: 0,
  },
];

const RULE: Rule = {
  id: 'r1',
  edge: { id: 'e1', name: 'edge-01' },
  owner: 'alice',
  name: 'tcp-8080',
  revision: 1,
  state: 'active',
  reason: null,
  message: null,
  rule: { name: 'tcp-8080', listen: '0.0.0.0:8080', targets: ['10.0.0.5:80', '10.0.0.6:80'] },
  createdAt: '2026-03-01T11:00:00Z',
  updatedAt: '2026-03-01T11:00:00Z',
};

const FAILED: Rule = {
  ...RULE,
  id: 'r2',
  name: 'tls',
  state: 'failed',
  reason: 'bind_failed',
  message: 'bind 0.0.0.0:443: EACCES',
  rule: { name: 'tls', listen: '0.0.0.0:443', protocol: 'tcp', sni: { 'a.example.com': '10.0.0.7:443' } },
};

const STATS: RuleStats = {
  rule: 'r1',
  at: '2026-03-01T12:00:00Z',
  bytesIn: 1536,
  bytesOut: 5 * 1024 ** 3,
  connectionsTotal: 120,
  activeConnections: 3,
  rejected: 1,
  rejectedByReason: { sni_miss: 1 },
  connectErrors: 0,
  bytesInPerSec: 1_500_000,
  bytesOutPerSec: 125,
};

describe('units', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [50 * 1024 ** 2, '50.0 MiB'],
    [5 * 1024 ** 3, '5.00 GiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it.each([
    [0, '0 bit/s'],
    [125, '1.00 kbit/s'],
    [1_500_000, '12.0 Mbit/s'],
    [12_500_000, '100 Mbit/s'],
  ])('formats %d bytes/s as %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });

  it('formats times in UTC to the second, and ages coarsely', () => {
    expect(formatTime('2026-03-01T12:00:05.999Z')).toBe('2026-03-01 12:00:05Z');
    expect(formatTime(null)).toBe('-');
    expect(formatTime('soon')).toBe('soon');
    expect(formatAge('2026-03-01T12:00:00Z', NOW)).toBe('just now');
    expect(formatAge(NOW - 42_000, NOW)).toBe('42s ago');
    expect(formatAge(NOW - 5 * 60_000, NOW)).toBe('5m ago');
    expect(formatAge(NOW - 3 * 3_600_000, NOW)).toBe('3h ago');
    expect(formatAge(NOW - 2 * 86_400_000, NOW)).toBe('2d ago');
    expect(formatAge(null, NOW)).toBe('never');
  });
});

describe('tables', () => {
  it('lines columns up without borders, colours or trailing spaces', () => {
    expect(
      renderTable(
        ['A', 'LONGER'],
        [
          ['xx', 'y'],
          ['z', ''],
        ],
      ),
    ).toBe('A   LONGER\nxx  y\nz\n');
  });

  it('lists edges', () => {
    expect(formatEdges(EDGES, NOW)).toBe(
      [
        'NAME     ID  STATE      VERSION  RULES  LAST SEEN  ENROLLED',
        'edge-01  e1  connected  1        2      2s ago     2026-02-01 08:00:00Z',
        'edge-02  e2  revoked    -        0      never      2026-02-02 08:00:00Z',
        '',
      ].join('\n'),
    );
    expect(formatEdges([], NOW)).toBe('no edges; enroll one with: sluicectl enroll NAME\n');
  });

  it('lists rules with their listen, targets, sni routes and failure reason', () => {
    expect(formatRules([RULE, FAILED])).toBe(
      [
        'ID  EDGE     NAME      OWNER  STATE                 LISTEN            TARGETS                      REV',
        'r1  edge-01  tcp-8080  alice  active                tcp 0.0.0.0:8080  10.0.0.5:80, 10.0.0.6:80     1',
        'r2  edge-01  tls       alice  failed (bind_failed)  tcp 0.0.0.0:443   a.example.com->10.0.0.7:443  1',
        '',
      ].join('\n'),
    );
    expect(formatRules([])).toBe('no rules\n');
  });

  it('colours the state cells at a terminal and keeps every column where the plain table has it', () => {
    const coloured = formatRules([RULE, FAILED], true);
    expect(coloured).toContain('\u001b[32mactive\u001b[39m');
    expect(coloured).toContain('\u001b[31mfailed (bind_failed)\u001b[39m');
    expect(stripVTControlCharacters(coloured)).toBe(formatRules([RULE, FAILED]));
    const edges = formatEdges(EDGES, NOW, true);
    expect(edges).toContain('\u001b[32mconnected\u001b[39m');
    expect(edges).toContain('\u001b[31mrevoked\u001b[39m');
    expect(stripVTControlCharacters(edges)).toBe(formatEdges(EDGES, NOW));
    const one = formatRule(FAILED, 'rule r2 (tls) is failed on edge edge-01', true);
    expect(one).toContain('state     \u001b[31mfailed\u001b[39m\n');
    expect(stripVTControlCharacters(one)).toBe(formatRule(FAILED, 'rule r2 (tls) is failed on edge edge-01'));
  });

  it('shows one rule field by field after its headline', () => {
    const text = formatRule(FAILED, 'rule r2 (tls) is failed on edge edge-01');
    expect(text.split('\n')).toEqual([
      'rule r2 (tls) is failed on edge edge-01',
      'id        r2',
      'edge      edge-01 (e1)',
      'name      tls',
      'owner     alice',
      'state     failed',
      'listen    tcp 0.0.0.0:443',
      'targets   a.example.com->10.0.0.7:443',
      'revision  1',
      'message   bind 0.0.0.0:443: EACCES',
      '',
    ]);
  });

  it('shows stats as a table and as a watch line', () => {
    expect(formatStats(STATS)).toContain('rate in         12.0 Mbit/s\n');
    expect(formatStats(STATS)).toContain('bytes out       5.00 GiB\n');
    expect(formatStats(STATS)).toContain('rejected        1 (sni_miss 1)\n');
    const many = {
      ...STATS,
      rejected: 6,
      rejectedByReason: { no_target: 2, sni_miss: 4, quota_exhausted: 0 },
    };
    expect(formatStats(many)).toContain('rejected        6 (sni_miss 4, no_target 2)\n');
    expect(formatStatsLine(STATS)).toBe(
      '2026-03-01 12:00:00Z  in 12.0 Mbit/s  out 1.00 kbit/s  active 3  conns 120  rejected 1  errors 0  total 1.50 KiB in / 5.00 GiB out',
    );
  });

  it('shows the stats of a rule no report has mentioned yet', () => {
    const fresh = ruleStatsSchema.parse({ ...STATS, at: null, bytesIn: 0, bytesInPerSec: 0 });
    expect(formatStatsLine(fresh).startsWith('-  in 0 bit/s  out ')).toBe(true);
    expect(formatStats(fresh)).toMatch(/^at\s+-$/m);
    expect(formatStats({ ...fresh, rejected: 0, rejectedByReason: {} })).toMatch(/^rejected\s+0$/m);
  });

  it('shows an enrollment with the command to run on the edge', () => {
    const text = formatEnrollment({
      edge: { id: 'e3', name: 'edge-03' },
      code: 'c0de',
      uri: 'sluice://ctl.example.com:7443/enroll?pin=ab&code=c0de',
      command: "sluice-edge enroll 'sluice://ctl.example.com:7443/enroll?pin=ab&code=c0de' --bundle FILE",
      expiresAt: '2026-03-01T12:10:00Z',
    });
    expect(text).toBe(
      [
        'enrollment code for edge edge-03 (e3), valid until 2026-03-01 12:10:00Z',
        'uri: sluice://ctl.example.com:7443/enroll?pin=ab&code=c0de',
        'on the edge, run:',
        "  sluice-edge enroll 'sluice://ctl.example.com:7443/enroll?pin=ab&code=c0de' --bundle FILE",
        '',
      ].join('\n'),
    );
  });
});

describe('json', () => {
  it('prints the body as it came, indented, ending in a newline', () => {
    const body = { edges: [{ id: 'e1', extra: { kept: true } }] };
    expect(formatJson(body)).toBe(`${JSON.stringify(body, null, 2)}\n`);
    expect(JSON.parse(formatJson(body))).toEqual(body);
  });
});
