import { describe, expect, it } from 'vitest';
import { defineErrors, renderTemplate, SluiceError } from './define-errors.ts';
import { errorsMarkdown } from './errors-markdown.ts';

const demo = defineErrors('demo', {
  port_in_use: { message: 'address {listen} is already in use', status: 409, exitCode: 14 },
  usage: { message: '{reason}', exitCode: 2 },
});
const other = defineErrors('other', { usage: { message: 'other {reason}' } });

describe('renderTemplate', () => {
  it('fills every named value and leaves unknown names visible', () => {
    expect(renderTemplate('{a} and {b} but {c}', { a: 1, b: 'two', c: undefined })).toBe('1 and two but {c}');
  });
  it('does not read inherited properties', () => {
    expect(renderTemplate('{toString}', {})).toBe('{toString}');
  });
});

describe('defineErrors', () => {
  it('raises an error carrying the row', () => {
    const error = demo.error('port_in_use', { listen: '127.0.0.1:80' });
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('address 127.0.0.1:80 is already in use');
    expect([error.area, error.code, error.status, error.exitCode]).toEqual(['demo', 'port_in_use', 409, 14]);
    expect(error.toData()).toEqual({
      code: 'port_in_use',
      message: 'address 127.0.0.1:80 is already in use',
      details: { listen: '127.0.0.1:80' },
    });
  });
  it('leaves status and exit code undefined where the row has none', () => {
    const error = other.error('usage', { reason: 'x' });
    expect(error.status).toBeUndefined();
    expect(error.exitCode).toBeUndefined();
  });
  it('takes a more specific message and a cause', () => {
    const cause = new Error('root');
    const error = demo.error('usage', {}, { message: 'no such flag --x', cause });
    expect(error.message).toBe('no such flag --x');
    expect(error.cause).toBe(cause);
    expect(demo.data('usage', { reason: 'r' })).toEqual({
      code: 'usage',
      message: 'r',
      details: { reason: 'r' },
    });
    expect(demo.data('usage', {}, { message: 'm' }).message).toBe('m');
  });
  it('tells its own errors from another area with the same code', () => {
    expect(demo.is(demo.error('usage', { reason: 'x' }))).toBe(true);
    expect(demo.is(other.error('usage', { reason: 'x' }))).toBe(false);
    expect(demo.is(new Error('usage'))).toBe(false);
    expect(demo.isCode('usage')).toBe(true);
    expect(demo.isCode('toString')).toBe(false);
    expect(demo.codes).toEqual(['port_in_use', 'usage']);
  });
});

describe('errorsMarkdown', () => {
  it('lists every row of every area with its status and exit code', () => {
    const page = errorsMarkdown([{ title: 'Demo', errors: demo }]);
    expect(page).toContain('## Demo (`demo`)');
    expect(page).toContain('| `port_in_use` | address {listen} is already in use | 409 | 14 |');
    expect(page).toContain('| `usage` | {reason} |  | 2 |');
    expect(errorsMarkdown([{ title: 'P', errors: defineErrors('p', { x: { message: 'a|b' } }) }])).toContain(
      'a\\|b',
    );
  });
});
