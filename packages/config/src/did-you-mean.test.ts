import { describe, expect, it } from 'vitest';
import { didYouMean } from './did-you-mean.ts';

describe('didYouMean', () => {
  const known = ['name', 'listen', 'targets', 'connect_timeout_ms', 'limits', 'bandwidth'];

  it('suggests the closest known key for a typo', () => {
    expect(didYouMean('lisen', known)).toBe('listen');
    expect(didYouMean('target', known)).toBe('targets');
    expect(didYouMean('bandwith', known)).toBe('bandwidth');
    expect(didYouMean('Listen', known)).toBe('listen');
  });

  it('maps camelCase and kebab-case onto snake_case keys', () => {
    expect(didYouMean('connectTimeoutMs', known)).toBe('connect_timeout_ms');
    expect(didYouMean('connect-timeout-ms', known)).toBe('connect_timeout_ms');
  });

  it('counts a swap of two neighbours as one edit', () => {
    expect(didYouMean('ruels', ['rules', 'owners'])).toBe('rules');
    expect(didYouMean('lsiten', known)).toBe('listen');
  });

  it('suggests nothing when no key is close', () => {
    expect(didYouMean('color', known)).toBeNull();
    expect(didYouMean('x', known)).toBeNull();
  });
});
