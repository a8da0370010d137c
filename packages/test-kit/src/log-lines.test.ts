import { describe, expect, it } from 'vitest';
import { logMatches, parseLogLine } from './log-lines.ts';

describe('parseLogLine', () => {
  it('reads a pino line with its fields and keeps the text', () => {
    const text = '{"level":30,"time":1700000000000,"msg":"edge ready","relay":"js"}';
    expect(parseLogLine(text)).toEqual({
      level: 30,
      time: 1_700_000_000_000,
      msg: 'edge ready',
      relay: 'js',
      raw: text,
    });
  });

  it("gives a JSON object without msg the msg ''; anything else is not a log line", () => {
    expect(parseLogLine('{"level":30}')).toMatchObject({ msg: '', level: 30 });
    for (const text of ['admin token: abc', '[1,2]', 'null', '"text"', '{"msg":'])
      expect(parseLogLine(text), text).toBeNull();
  });
});

describe('logMatches', () => {
  const line = parseLogLine('{"msg":"rule active","rule":"web","shards":2}')!;

  it('matches the msg and every given field with ===', () => {
    expect(logMatches(line, 'rule active')).toBe(true);
    expect(logMatches(line, 'rule active', { rule: 'web', shards: 2 })).toBe(true);
    expect(logMatches(line, 'rule active', { shards: '2' })).toBe(false);
    expect(logMatches(line, 'rule failed', { rule: 'web' })).toBe(false);
  });
});
