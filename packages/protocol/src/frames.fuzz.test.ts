// Fuzzing the control frame reader and the message schemas: any messages, in any chunking, come
// out whole and in order; any bytes either give frames or a FRAME_ERRORS error, nothing else;
// and any JSON either validates as a message or is refused, without throwing.

import { join } from 'node:path';
import { BYTES_CODEC, fuzz, JSON_CODEC } from '@sluice/test-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FRAME_ERRORS, FrameReader, PRE_AUTH_MAX_FRAME_BYTES } from './frames.ts';
import { edgeMessageSchema, serverMessageSchema } from './messages.ts';

const CORPUS = join(import.meta.dirname, 'fuzz-corpus');

/** Splits `bytes` at the given cut points (any, unsorted, out of range ones ignored). */
function chunks(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const at of [...points, bytes.length]) {
    out.push(bytes.subarray(from, at));
    from = at;
  }
  return out;
}

describe('FrameReader and the messages under fuzzing', () => {
  it('gives back any messages whole and in order, however the bytes are chunked', async () => {
    await fuzz({
      corpus: join(CORPUS, 'chunked.corpus'),
      arbitrary: fc.record({
        messages: fc.array(fc.jsonValue(), { minLength: 1, maxLength: 8 }),
        cuts: fc.array(fc.nat(), { maxLength: 20 }),
      }),
      codec: JSON_CODEC as never,
      check: ({ messages, cuts }: { messages: unknown[]; cuts: number[] }) => {
        // Through JSON once, as a frame carries it (-0 becomes 0, and so on).
        const expected = messages.map((m) => JSON.parse(JSON.stringify(m)) as unknown);
        const bytes = Buffer.concat(messages.map(encodeFrame));
        const reader = new FrameReader();
        const got = chunks(bytes, cuts).flatMap((chunk) => reader.push(chunk));
        expect(got).toEqual(expected);
      },
    });
  });

  it('gives any bytes frames or a frame error, never another throw', async () => {
    await fuzz({
      corpus: join(CORPUS, 'any-bytes.hex'),
      arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
      codec: BYTES_CODEC,
      check: (bytes) => {
        const reader = new FrameReader(PRE_AUTH_MAX_FRAME_BYTES);
        try {
          for (const chunk of chunks(bytes, [7, 100, 301])) reader.push(chunk);
        } catch (error) {
          expect(FRAME_ERRORS.is(error), String(error)).toBe(true);
        }
      },
    });
  });

  it('validates or refuses any JSON as a message of either side, without throwing', async () => {
    const typed = fc.record(
      {
        type: fc.constantFrom(
          'enroll',
          'hello',
          'ack',
          'stats',
          'ping',
          'pong',
          'push',
          'welcome',
          'refused',
          'enrolled',
        ),
        version: fc.oneof(fc.integer(), fc.string()),
        edgeId: fc.string(),
        pushId: fc.oneof(fc.integer(), fc.double()),
        results: fc.array(fc.jsonValue(), { maxLength: 3 }),
        rules: fc.array(fc.jsonValue(), { maxLength: 3 }),
      },
      { requiredKeys: ['type'] },
    );
    await fuzz({
      corpus: join(CORPUS, 'messages.corpus'),
      arbitrary: fc.oneof(fc.jsonValue(), typed),
      codec: JSON_CODEC,
      check: (value) => {
        expect(typeof edgeMessageSchema.safeParse(value).success).toBe('boolean');
        expect(typeof serverMessageSchema.safeParse(value).success).toBe('boolean');
      },
    });
  });
});
