import { describe, expect, it } from 'vitest';
import {
  defaultMaxConnections,
  maxConnections,
  maxWaiting,
  parseDescriptorLimit,
  readDescriptorLimit,
} from './descriptor-limit.ts';
import { EDGE_ERRORS } from './errors.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63344                63344                processes
Max open files            4096                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('the descriptor limit', () => {
  it('reads soft and hard from /proc/PID/limits, and unlimited as unknown', () => {
    expect(parseDescriptorLimit(LIMITS)).toEqual({ soft: 4096, hard: 524288 });
    expect(parseDescriptorLimit(LIMITS.replace('4096 ', 'unlimited'))).toEqual({ soft: null, hard: 524288 });
    expect(parseDescriptorLimit('')).toEqual({ soft: null, hard: null });
  });

  it("reads this process's own: Node raised the soft limit to the hard one at start", () => {
    const limit = readDescriptorLimit();
    expect(limit.soft).toBeGreaterThan(0);
    expect(limit.soft).toBe(limit.hard);
  });

  it('gives an edge without max_connections a quarter of the soft limit, or no limit when unknown', () => {
    expect(defaultMaxConnections({ soft: 4096, hard: 524288 })).toBe(1024);
    expect(defaultMaxConnections({ soft: 3, hard: 3 })).toBe(1);
    expect(defaultMaxConnections({ soft: null, hard: null })).toBe(0);
  });

  it('lets as many wait as the descriptors left beside max_connections allow, half of them', () => {
    expect(maxWaiting(1024, { soft: 4096, hard: 4096 })).toBe(1024);
    expect(maxWaiting(2048, { soft: 4096, hard: 4096 })).toBe(0);
    expect(maxWaiting(90, { soft: 256, hard: 256 })).toBe(38);
    expect(maxWaiting(500, { soft: null, hard: null })).toBe(500);
  });

  it('keeps a configured max_connections the limit can hold, and refuses one it cannot', () => {
    const limit = { soft: 1000, hard: 1000 };
    expect(maxConnections(null, limit, 'edge.toml')).toBe(250);
    expect(maxConnections(500, limit, 'edge.toml')).toBe(500);
    expect(maxConnections(9000, { soft: null, hard: null }, 'edge.toml')).toBe(9000);
    let thrown: unknown;
    try {
      maxConnections(501, limit, '/etc/sluice/edge.toml');
    } catch (err) {
      thrown = err;
    }
    expect(EDGE_ERRORS.is(thrown) && thrown.code).toBe('max_connections_over_limit');
    expect((thrown as Error).message).toBe(
      '/etc/sluice/edge.toml: max_connections = 501 needs at least 1002 descriptors (two sockets per connection), but the descriptor limit (RLIMIT_NOFILE) is 1000; lower max_connections, or raise the limit (ulimit -n, systemd LimitNOFILE=)',
    );
  });
});
