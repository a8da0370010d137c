import { describe, expect, it } from 'vitest';
import { listenPorts, targetPort } from './port-map.ts';

const range = { host: '127.0.0.1', portLo: 7000, portHi: 7099 };

describe('targetPort', () => {
  it('maps a target without a port, or with a range of the same width, by offset', () => {
    expect(targetPort({ host: 'h', portLo: null, portHi: null }, range, 7042)).toBe(7042);
    expect(targetPort({ host: 'h', portLo: 9000, portHi: 9099 }, range, 7042)).toBe(9042);
    expect(targetPort({ host: 'h', portLo: 9000, portHi: 9099 }, range, 7000)).toBe(9000);
  });

  it('sends every listen port to a single-port target', () => {
    expect(targetPort({ host: 'h', portLo: 80, portHi: 80 }, range, 7042)).toBe(80);
  });

  it('lists every port of a range', () => {
    expect(listenPorts({ host: 'h', portLo: 5, portHi: 8 })).toEqual([5, 6, 7, 8]);
    expect(listenPorts(range)).toHaveLength(100);
  });
});
