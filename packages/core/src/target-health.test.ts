import { afterEach, describe, expect, it, vi } from 'vitest';
import { TargetHealth } from './target-health.ts';

function setup(count: number) {
  const clock = { t: 1_000_000 };
  const changes: [number, boolean][] = [];
  const health = new TargetHealth(count, {
    now: () => clock.t,
    onChange: (index, up) => changes.push([index, up]),
  });
  return { clock, changes, health };
}

/** Takes target `index` down with three quick failures. */
function takeDown(health: TargetHealth, index: number): void {
  for (let i = 0; i < 3; i++) health.recordFailure(index);
}

describe('TargetHealth', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts with every target up', () => {
    const { health } = setup(3);
    expect(health.states()).toEqual([true, true, true]);
    expect(health.order('failover')).toEqual([0, 1, 2]);
  });

  it('takes a target down after 3 failures within 30 s', () => {
    const { clock, changes, health } = setup(2);
    health.recordFailure(1);
    clock.t += 15_000;
    health.recordFailure(1);
    expect(health.isUp(1)).toBe(true);
    clock.t += 15_000; // the first failure is exactly 30 s old: still inside the window
    health.recordFailure(1);
    expect(health.isUp(1)).toBe(false);
    expect(health.states()).toEqual([true, false]);
    expect(changes).toEqual([[1, false]]);
  });

  it('keeps a target up when its 3 failures spread over more than 30 s', () => {
    const { clock, changes, health } = setup(1);
    health.recordFailure(0);
    clock.t += 20_000;
    health.recordFailure(0);
    clock.t += 10_001; // the first has left the window
    health.recordFailure(0);
    expect(health.isUp(0)).toBe(true);
    clock.t += 1_000; // but three within 30 s again now
    health.recordFailure(0);
    expect(health.isUp(0)).toBe(false);
    expect(changes).toEqual([[0, false]]);
  });

  it('does not count failures separated by a success', () => {
    const { health } = setup(1);
    health.recordFailure(0);
    health.recordFailure(0);
    health.recordSuccess(0);
    health.recordFailure(0);
    health.recordFailure(0);
    expect(health.isUp(0)).toBe(true);
  });

  it('brings a target back after 2 successes in a row', () => {
    const { changes, health } = setup(2);
    takeDown(health, 0);
    health.recordSuccess(0);
    expect(health.isUp(0)).toBe(false);
    health.recordFailure(0); // breaks the run
    health.recordSuccess(0);
    expect(health.isUp(0)).toBe(false);
    health.recordSuccess(0);
    expect(health.isUp(0)).toBe(true);
    expect(changes).toEqual([
      [0, false],
      [0, true],
    ]);
    // Back up with a clean slate: one failure does not take it down again.
    health.recordFailure(0);
    expect(health.isUp(0)).toBe(true);
  });

  it('failover tries the healthy targets in order, then the down ones', () => {
    const { health } = setup(4);
    takeDown(health, 0);
    takeDown(health, 2);
    expect(health.order('failover')).toEqual([1, 3, 0, 2]);
    expect(health.order('failover')).toEqual([1, 3, 0, 2]);
  });

  it('still tries the first target first when all are down', () => {
    const { health } = setup(3);
    for (let i = 0; i < 3; i++) takeDown(health, i);
    expect(health.order('failover')).toEqual([0, 1, 2]);
    expect(health.order('round-robin')).toEqual([0, 1, 2]);
    // Connections that get through that way bring it back.
    health.recordSuccess(0);
    health.recordSuccess(0);
    expect(health.order('failover')).toEqual([0, 1, 2]);
    expect(health.states()).toEqual([true, false, false]);
  });

  it('round-robin rotates over all targets while they are healthy', () => {
    const { health } = setup(3);
    const firsts = Array.from({ length: 6 }, () => health.order('round-robin'));
    expect(firsts).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
  });

  it('round-robin skips down targets and takes them back in turn', () => {
    const { health } = setup(3);
    takeDown(health, 1);
    const whileDown = Array.from({ length: 4 }, () => health.order('round-robin'));
    expect(whileDown).toEqual([
      [0, 2, 1],
      [2, 0, 1],
      [0, 2, 1],
      [2, 0, 1],
    ]);
    health.recordSuccess(1);
    health.recordSuccess(1);
    const afterReturn = Array.from({ length: 3 }, () => health.order('round-robin')[0]);
    expect(afterReturn).toEqual([0, 1, 2]);
  });

  it('rejects an index outside the target list', () => {
    const { health } = setup(2);
    expect(() => health.recordFailure(2)).toThrow(RangeError);
    expect(() => health.isUp(-1)).toThrow(RangeError);
  });

  it('the active probe brings a down target back and leaves up ones alone', async () => {
    vi.useFakeTimers();
    const { changes, health } = setup(3);
    takeDown(health, 1);
    const probed: number[] = [];
    let healthy = false;
    health.startProbing(1_000, async (index) => {
      probed.push(index);
      return healthy;
    });

    await vi.advanceTimersByTimeAsync(1_000);
    expect(probed).toEqual([1]); // only the down target
    expect(health.isUp(1)).toBe(false);

    healthy = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.isUp(1)).toBe(false); // one success of the two needed
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.isUp(1)).toBe(true);
    expect(changes).toEqual([
      [1, false],
      [1, true],
    ]);

    await vi.advanceTimersByTimeAsync(5_000);
    expect(probed).toEqual([1, 1, 1]); // nothing is down, so nothing is probed
    health.stop();
  });

  it('keeps at most one probe per target out, and ignores answers after stop()', async () => {
    vi.useFakeTimers();
    const { health } = setup(2);
    takeDown(health, 0);
    const answers: ((ok: boolean) => void)[] = [];
    health.startProbing(100, (index) => {
      expect(index).toBe(0);
      return new Promise<boolean>((resolve) => answers.push(resolve));
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(answers).toHaveLength(1); // ten ticks, one probe: the first has not answered
    answers[0]!(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(answers).toHaveLength(2);
    health.stop();
    answers[1]!(true); // would have been the second success
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.isUp(0)).toBe(false);
    expect(answers).toHaveLength(2);
  });

  it('counts a rejected probe as a failure', async () => {
    vi.useFakeTimers();
    const { health } = setup(1);
    takeDown(health, 0);
    const results = [true, 'reject', true, true] as const;
    let call = 0;
    health.startProbing(1_000, async () => {
      const result = results[call++];
      if (result === 'reject') throw new Error('connect blew up');
      return result ?? true;
    });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(health.isUp(0)).toBe(false); // success, failure (run broken), success
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.isUp(0)).toBe(true);
    health.stop();
  });

  it('takes no verdict from a probe this host could not make (out of descriptors)', async () => {
    vi.useFakeTimers();
    const { health } = setup(1);
    takeDown(health, 0);
    // success, no verdict, success: two successes in a row, the run is not broken.
    const results = [true, null, true] as const;
    let call = 0;
    health.startProbing(1_000, async () => results[call++] ?? null);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(health.isUp(0)).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.isUp(0)).toBe(true);
    health.stop();
  });
});
