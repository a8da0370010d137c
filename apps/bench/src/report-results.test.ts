import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportCharts } from './charts/report-charts.ts';
import { sampleReport } from './report.fixture.ts';
import { chartsSection, writeReportFiles } from './report-files.ts';
import { parseResultsArgs, renderResults } from './report-results.ts';

describe('renderResults (benchmarks/RESULTS.md)', () => {
  const page = renderResults({
    report: sampleReport({ options: { ...sampleReport().options, quick: false } }),
    charts: [{ title: 'Single TCP flow through each contender', path: 'results/throughput.svg' }],
    command: './run bench:results',
    args: ['--repeats', '2'],
    notes: ['2 repeats instead of the default 3'],
  });

  it('says how to regenerate it, and the machine, kernel, versions and date', () => {
    expect(page).toContain('`./run bench:results`');
    expect(page).toContain('| date | 2026-11-23T12:00:00.000Z to 2026-11-23T12:01:00.000Z (1 min) |');
    expect(page).toContain('| kernel | Linux 6.1.0 (#1) |');
    expect(page).toContain('| Node | v24.0.0 |');
    expect(page).toContain('| haproxy | not installed |');
    expect(page).toContain('| sluice-bench flags | --repeats 2 |');
    expect(page).toContain('> 2 repeats instead of the default 3');
  });

  it('embeds the charts, then the tables without their own heading', () => {
    expect(page).toContain('![Single TCP flow through each contender](results/throughput.svg)');
    expect(page.indexOf('## Charts')).toBeLessThan(page.indexOf('## Tables'));
    expect(page).not.toContain('## sluice-bench 2026');
    expect(page).toContain('| C |');
  });
});

describe('parseResultsArgs', () => {
  it('passes flags to sluice-bench and takes --from', () => {
    expect(parseResultsArgs(['--', '--repeats', '2'])).toEqual({ from: null, benchArgs: ['--repeats', '2'] });
    expect(parseResultsArgs(['--from', 'x.json'])).toEqual({ from: 'x.json', benchArgs: [] });
  });

  it('refuses --quick and --out, and a --from without a file', () => {
    expect(() => parseResultsArgs(['--quick'])).toThrow(expect.objectContaining({ code: 'bad_flag' }));
    expect(() => parseResultsArgs(['--out', 'x'])).toThrow(/--out/);
    expect(() => parseResultsArgs(['--from'])).toThrow(/needs a JSON report/);
  });
});

describe('charts and Markdown beside the JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a report yields the charts its scenarios measured', () => {
    expect(reportCharts(sampleReport()).map((c) => c.id)).toEqual(['throughput', 'memory']);
    expect(reportCharts(sampleReport({ throughput: null, idleMemory: null }))).toEqual([]);
  });

  it('writes <ts>/<chart>.svg and <ts>.md embedding them by relative path', async () => {
    const json = join(dir, '2026-11-23T12-00-00Z.json');
    const files = await writeReportFiles(sampleReport(), json);
    expect(files.charts.map((c) => c.file)).toEqual([
      join(dir, '2026-11-23T12-00-00Z', 'throughput.svg'),
      join(dir, '2026-11-23T12-00-00Z', 'memory.svg'),
    ]);
    expect(readFileSync(files.charts[0]!.file, 'utf8')).toMatch(/^<svg /);
    const md = readFileSync(files.markdownFile, 'utf8');
    expect(md).toContain('### Charts');
    expect(md).toContain('](2026-11-23T12-00-00Z/throughput.svg)');
  });

  it('chartsSection uses an absolute path for a chart outside the directory it is read from', () => {
    const section = chartsSection([{ id: 'm', title: 'M', file: '/elsewhere/m.svg' }], '/work/main');
    expect(section).toContain('![M](/elsewhere/m.svg)');
    expect(chartsSection([], '/x')).toBe('');
  });
});
