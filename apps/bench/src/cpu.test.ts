import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, cpuTicks, cpuWindow, sampleTreeCpu } from './cpu.ts';

describe('CPU time from /proc', () => {
  it('reads this process and charges a busy loop to it', () => {
    const before = sampleTreeCpu(process.pid);
    expect(before?.pids[0]).toBe(process.pid);
    // Spin until the kernel has charged this process 200 ms of CPU (on a loaded machine that
    // takes longer than 200 ms of wall time), at most 10 s.
    const start = process.cpuUsage();
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const used = process.cpuUsage(start);
      if (used.user + used.system >= 200_000) break;
    }
    const after = sampleTreeCpu(process.pid);
    const window = cpuWindow(before!, after!);
    expect(window!.userSeconds + window!.systemSeconds).toBeGreaterThan(0.15);
    expect(window?.percentOfCore).toBeGreaterThan(0);
    expect(window?.percentOfCore).toBeLessThanOrEqual(100 * 2 + 5);
  });

  it('gives null for a process that is gone and for an empty window', () => {
    expect(cpuTicks(2 ** 22 + 1)).toBeNull();
    expect(sampleTreeCpu(2 ** 22 + 1)).toBeNull();
    const s = { atMs: 5, pids: [1], userTicks: 1, systemTicks: 1 };
    expect(cpuWindow(s, s)).toBeNull();
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });
});
