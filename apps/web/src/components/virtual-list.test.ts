import { describe, expect, it } from 'vitest';
import { visibleRange } from './virtual-list.tsx';

describe('visibleRange', () => {
  it('renders the rows in view and a few around them', () => {
    expect(visibleRange(0, 600, 30, 10_000)).toEqual({ first: 0, last: 28 });
    expect(visibleRange(30_000, 600, 30, 10_000)).toEqual({ first: 992, last: 1028 });
  });

  it('stays inside the list', () => {
    expect(visibleRange(299_700, 600, 30, 10_000)).toEqual({ first: 9982, last: 10_000 });
    expect(visibleRange(0, 600, 30, 3)).toEqual({ first: 0, last: 3 });
  });
});
