import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createProgress, fitStatus, scenarioLine } from './progress.ts';
import type { ScenarioStep } from './scenarios/scenario.ts';

/** A stream that keeps what is written, a terminal or not. */
function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns: 140 });
  return { stream, text: () => chunks.join('') };
}

const step = (
  scenario: ScenarioStep['scenario'],
  index: number,
  total: number,
  label: string,
): ScenarioStep => ({
  scenario,
  index,
  total,
  label,
  seconds: 2,
});

describe('progress', () => {
  it('off a terminal: the log lines, plain, and one line per scenario', () => {
    const out = sink(false);
    const progress = createProgress({ stream: out.stream, prefix: 'sluice-bench: ', scenarios: 2 });
    progress.onStep(step('sweep', 1, 2, 'direct · 1G'));
    progress.log('sweep direct · 1G: 1.00 Gbit/s');
    progress.onStep(step('sweep', 2, 2, 'c-splice · 1G'));
    progress.onStep(step('idle-memory', 1, 1, 'haproxy'));
    progress.stop();
    expect(out.text()).toBe(
      [
        'sluice-bench: sweep: 2 steps of about 2 s each',
        'sluice-bench: sweep direct · 1G: 1.00 Gbit/s',
        'sluice-bench: idle-memory: 1 step of about 2 s each',
        '',
      ].join('\n'),
    );
  });

  it('on a terminal: bars for the scenarios and the current steps, log lines above them', () => {
    // The bars redraw on cli-progress's own timer (4 fps); a fake clock runs it past one redraw.
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const out = sink(true);
    const progress = createProgress({ stream: out.stream, prefix: 'sluice-bench: ', scenarios: 2 });
    progress.onStep(step('sweep', 1, 4, 'direct · 1G'));
    progress.log('sweep direct · 1G: 1.00 Gbit/s');
    progress.onStep(step('sweep', 2, 4, 'c-splice · 1G'));
    vi.advanceTimersByTime(300);
    progress.log('just before the bars stop');
    progress.stop();
    progress.log('after the bars');
    const text = out.text();
    // Above the bars each line erases what is left of the bar it is drawn over (ESC [ K).
    expect(text).toContain('sluice-bench: sweep direct · 1G: 1.00 Gbit/s\x1b[K\n');
    expect(text).toMatch(/sweep +\|[█░]+\| 1\/4 steps/);
    expect(text).toMatch(/all +\|[█░]+\| 0\/2 scenarios/);
    expect(text).toContain('c-splice · 1G');
    expect(text).toContain('sluice-bench: just before the bars stop\x1b[K\n');
    expect(text).toContain('sluice-bench: after the bars\n');
  });

  it('on a terminal, lines logged before the first step are written as they come', () => {
    const out = sink(true);
    const progress = createProgress({ stream: out.stream, prefix: 'p: ', scenarios: 1 });
    progress.log('installing iperf3');
    expect(out.text()).toBe('p: installing iperf3\n');
    progress.stop();
  });

  it('scenarioLine and fitStatus', () => {
    expect(scenarioLine(step('udp', 1, 6, 'x'))).toBe('udp: 6 steps of about 2 s each');
    expect(fitStatus('sluice-js-1 · 1G · run 2/3', 200)).toBe('· sluice-js-1 · 1G · run 2/3');
    expect(fitStatus('sluice-js-1 · 1G · run 2/3', 90)).toBe('· sluice-js-1…');
    expect(fitStatus('anything', 80)).toBe('');
  });
});
