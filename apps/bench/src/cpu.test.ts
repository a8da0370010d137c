import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, cpuTicks, cpuWindow, sampleTreeCpu } from './cpu.ts';

describe('CPU time from /proc', () => {
  it('reads this process and charges a busy loop to it', () => {
    const before = sampleTreeCpu(process.pid);
    expect(before?.pids[0]).toBe(process.pid);
    const until = performance.now() + 200;
    while (performance.now() < until) {
      // Spin: user time.
    }
    const after = sampleTreeCpu(process.pid);
    const window = cpuWindow(before!, after!);
    expect(window?.wallSeconds).toBeGreaterThan(0.15);
    expect(window!.userSeconds + window!.systemSeconds).toBeGreaterThan(0.05);
    expect(window?.percentOfCore).toBeGreaterThan(25);
  });

  it('gives null for a process that is gone and for an empty window', () => {
    expect(cpuTicks(2 ** 22 + 1)).toBeNull();
    expect(sampleTreeCpu(2 ** 22 + 1)).toBeNull();
    const s = { atMs: 5, pids: [1], userTicks: 1, systemTicks: 1 };
    expect(cpuWindow(s, s)).toBeNull();
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });
});
