import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { colorWanted, paintError, paintState } from './color.ts';

const GREEN = '\u001b[32m';
const YELLOW = '\u001b[33m';
const RED = '\u001b[31m';

describe('colorWanted', () => {
  it('colours a terminal unless NO_COLOR is set to something or TERM is dumb', () => {
    expect(colorWanted(true, {})).toBe(true);
    expect(colorWanted(true, { TERM: 'xterm-256color' })).toBe(true);
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(true, { NO_COLOR: 'no' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(colorWanted(true, { NO_COLOR: '' })).toBe(true);
    expect(colorWanted(true, { TERM: 'dumb' })).toBe(false);
  });

  it('never colours a pipe or a file', () => {
    expect(colorWanted(false, {})).toBe(false);
    expect(colorWanted(false, { NO_COLOR: '' })).toBe(false);
  });
});

describe('paintState', () => {
  it('colours serving states green, waiting ones yellow and failed ones red, around the text given', () => {
    expect(paintState('active', 'active', true)).toBe(`${GREEN}active\u001b[39m`);
    expect(paintState('connected', 'connected', true)).toContain(GREEN);
    expect(paintState('pending', 'pending', true)).toContain(YELLOW);
    expect(paintState('offline', 'offline', true)).toContain(YELLOW);
    expect(paintState('revoked', 'revoked', true)).toContain(RED);
    const failed = paintState('failed', 'failed (bind_failed)', true);
    expect(failed.startsWith(RED)).toBe(true);
    expect(stripVTControlCharacters(failed)).toBe('failed (bind_failed)');
  });

  it('leaves the text plain with colour off, or for a state with no colour', () => {
    expect(paintState('active', 'active', false)).toBe('active');
    expect(paintState('failed', 'failed (bind_failed)', false)).toBe('failed (bind_failed)');
    expect(paintState('removed', 'removed', true)).toBe('removed');
  });
});

describe('paintError', () => {
  it('makes the code bold red with colour on, and leaves it alone with colour off', () => {
    expect(paintError('not_found', true)).toBe('\u001b[1m\u001b[31mnot_found\u001b[39m\u001b[22m');
    expect(paintError('not_found', false)).toBe('not_found');
  });
});
