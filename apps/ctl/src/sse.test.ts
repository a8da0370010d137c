import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from './sse.ts';

function feed(chunks: readonly string[]): SseEvent[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

const STREAM = ': connected\n\nevent: stats\ndata: {"a":1}\n\nevent: stats\nid: 7\ndata: {"a":2}\n\n';

describe('SseParser', () => {
  it('reads named events and skips comments', () => {
    expect(feed([STREAM])).toEqual([
      { event: 'stats', data: '{"a":1}', id: undefined },
      { event: 'stats', data: '{"a":2}', id: '7' },
    ]);
  });

  it('gives the same events however the stream is cut', () => {
    const whole = feed([STREAM]);
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(feed(chunks)).toEqual(whole);
    }
  });

  it('takes CRLF and CR line ends, also when a CRLF is split between chunks', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n');
    expect(feed([crlf])).toEqual(feed([STREAM]));
    expect(feed(crlf.split(/(?<=\r)/))).toEqual(feed([STREAM]));
    expect(feed([STREAM.replace(/\n/g, '\r')])).toEqual(feed([STREAM]));
  });

  it('joins data lines with newlines and defaults the event name to message', () => {
    expect(feed(['data: one\ndata:two\ndata\n\n'])).toEqual([
      { event: 'message', data: 'one\ntwo\n', id: undefined },
    ]);
  });

  it('dispatches nothing for an event without data, and keeps an unfinished one', () => {
    const parser = new SseParser();
    expect(parser.push('event: stats\n\nevent: stats\ndata: {}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'stats', data: '{}', id: undefined }]);
  });

  it('ignores unknown fields and retry', () => {
    expect(feed(['retry: 1000\nfoo: bar\ndata: x\n\n'])).toEqual([
      { event: 'message', data: 'x', id: undefined },
    ]);
  });
});
