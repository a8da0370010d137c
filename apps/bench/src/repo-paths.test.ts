import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EDGE, edgeCommand, REPO_ROOT } from './repo-paths.ts';

describe("the edge's command, from the root script `edge`", () => {
  it("takes the leading assignments as the environment, keeps Node's flags in order and makes the bin absolute", () => {
    expect(edgeCommand('A_1=x B=  node --a=1  --b apps/edge/bin/e.js', '/repo')).toEqual({
      env: { A_1: 'x', B: '' },
      args: ['--a=1', '--b', '/repo/apps/edge/bin/e.js'],
    });
    expect(edgeCommand('node bin/e.js', '/r')).toEqual({ env: {}, args: ['/r/bin/e.js'] });
    // Only an assignment before `node` is environment: a flag with `=` stays a flag.
    expect(edgeCommand('node --X=1 bin/e.js', '/r')).toEqual({ env: {}, args: ['--X=1', '/r/bin/e.js'] });
  });

  it('refuses a script that is not node, has no bin, or has words after it', () => {
    for (const script of [
      'pnpm bin/e.js',
      'A=1 pnpm bin/e.js',
      'node --flag',
      'node bin/e.js --config x.toml',
      'a=1 node bin/e.js',
    ]) {
      expect(() => edgeCommand(script, '/r'), script).toThrow(
        `package.json's "edge" script is not "[NAME=value ...] node [flags] BIN.js": ${script}`,
      );
    }
  });

  it("is what ./run edge runs: glibc's trim threshold, the semi-space cap, the sluice-edge bin", () => {
    expect(EDGE).toEqual({
      env: { MALLOC_TRIM_THRESHOLD_: '131072' },
      args: ['--max-semi-space-size=1', join(REPO_ROOT, 'apps', 'edge', 'bin', 'sluice-edge.js')],
    });
  });
});
