import { describe, expect, it } from 'vitest';
import { escapeControl } from './escape-control.ts';

describe('escapeControl', () => {
  it('shows every control character as its escape and leaves the rest as it was', () => {
    expect(escapeControl('edge e_1\r\n{"msg":"forged"}')).toBe('edge e_1\\r\\n{"msg":"forged"}');
    expect(escapeControl('\u001b[2J\u0000\u007f\u009b\tend')).toBe('\\u001b[2J\\u0000\\u007f\\u009b\\tend');
    expect(escapeControl('plain text, ünïcode and "quotes" ~')).toBe('plain text, ünïcode and "quotes" ~');
  });
});
