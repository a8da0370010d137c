import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  FRAME_ERRORS,
  FrameReader,
  MAX_FRAME_BYTES,
  PRE_AUTH_MAX_FRAME_BYTES,
} from './frames.ts';
import { edgeMessageSchema, serverMessageSchema } from './messages.ts';

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('frames', () => {
  it('reassembles frames split at every byte and packed together', () => {
    const messages = [{ type: 'ping' }, { type: 'ack', pushId: 7, results: [] }, { a: 'é'.repeat(300) }];
    const bytes = Buffer.concat(messages.map(encodeFrame));
    for (let split = 1; split < bytes.length; split++) {
      const reader = new FrameReader();
      const got = [...reader.push(bytes.subarray(0, split)), ...reader.push(bytes.subarray(split))];
      expect(got).toEqual(messages);
    }
    const reader = new FrameReader();
    const oneByOne = [...bytes].flatMap((byte) => reader.push(Buffer.from([byte])));
    expect(oneByOne).toEqual(messages);
  });

  it('refuses a frame longer than the limit from its length alone, and a frame that is not JSON', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1);
    const tooLarge = catchError(() => new FrameReader().push(head));
    expect(FRAME_ERRORS.is(tooLarge) && tooLarge.code).toBe('frame_too_large');
    expect((tooLarge as Error).message).toBe(
      `frame of ${MAX_FRAME_BYTES + 1} bytes is over ${MAX_FRAME_BYTES}`,
    );
    const junk = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}')]);
    const notJson = catchError(() => new FrameReader().push(junk));
    expect(FRAME_ERRORS.is(notJson) && notJson.code).toBe('frame_not_json');
    const reason = catchError(() => JSON.parse('{x}')) as Error;
    expect((notJson as Error).message).toBe(`frame is not JSON: ${reason.message}`);
    // A frame of no bytes is a frame, and '' is not JSON.
    const empty = catchError(() => new FrameReader().push(Buffer.alloc(4)));
    expect(FRAME_ERRORS.is(empty) && empty.code).toBe('frame_not_json');
  });

  it('holds a frame at its limit and refuses one byte more; the limit can be raised mid-stream', () => {
    const frameOf = (bytes: number) => encodeFrame({ t: 'x'.repeat(bytes - 8) }); // {"t":""} is 8 bytes
    const atLimit = frameOf(PRE_AUTH_MAX_FRAME_BYTES);
    expect(atLimit.length).toBe(4 + PRE_AUTH_MAX_FRAME_BYTES);
    expect(new FrameReader(PRE_AUTH_MAX_FRAME_BYTES).push(atLimit)).toHaveLength(1);
    const over = catchError(() =>
      new FrameReader(PRE_AUTH_MAX_FRAME_BYTES).push(frameOf(PRE_AUTH_MAX_FRAME_BYTES + 1)),
    );
    expect((over as Error).message).toBe(
      `frame of ${PRE_AUTH_MAX_FRAME_BYTES + 1} bytes is over ${PRE_AUTH_MAX_FRAME_BYTES}`,
    );
    const reader = new FrameReader(PRE_AUTH_MAX_FRAME_BYTES);
    expect(reader.push(encodeFrame({ type: 'ping' }))).toEqual([{ type: 'ping' }]);
    reader.limit = MAX_FRAME_BYTES;
    expect(reader.push(frameOf(PRE_AUTH_MAX_FRAME_BYTES * 4))).toHaveLength(1);
  });

  it('refuses an oversized frame as soon as its length is in, before its body arrives', () => {
    const reader = new FrameReader(PRE_AUTH_MAX_FRAME_BYTES);
    const big = encodeFrame({ t: 'x'.repeat(PRE_AUTH_MAX_FRAME_BYTES) });
    expect(reader.push(big.subarray(0, 3))).toEqual([]);
    expect(() => reader.push(big.subarray(3, 4))).toThrow(/is over/);
  });

  it('copies the chunks of a frame once, when it is complete, not on every chunk', () => {
    // A reader that re-joined its buffer on each chunk would cost time quadratic in a large
    // frame's size; this one leaves the chunks as they came until the frame is whole, so a byte
    // changed in an earlier chunk before then is what it parses.
    const frame = encodeFrame({ t: 'aaaaaaaaaaaaaaaaaaaa' });
    const chunks = [frame.subarray(0, 10), frame.subarray(10, 20), frame.subarray(20)].map((c) =>
      Buffer.from(c),
    );
    const reader = new FrameReader();
    expect(reader.push(chunks[0]!)).toEqual([]);
    expect(reader.push(chunks[1]!)).toEqual([]);
    chunks[1]![0] = 'b'.charCodeAt(0); // byte 10 of the frame: the first 'a'
    chunks[1]![9] = 'c'.charCodeAt(0);
    expect(reader.push(chunks[2]!)).toEqual([{ t: 'baaaaaaaacaaaaaaaaaa' }]);
  });

  it('encodes a message at the limit and refuses one byte over it', () => {
    // '{"text":""}' is 11 bytes of JSON around the text.
    const atLimit = encodeFrame({ text: 'x'.repeat(MAX_FRAME_BYTES - 11) });
    expect(atLimit.readUInt32BE(0)).toBe(MAX_FRAME_BYTES);
    const huge = { text: 'x'.repeat(MAX_FRAME_BYTES - 10) };
    const error = catchError(() => encodeFrame(huge));
    expect(FRAME_ERRORS.is(error) && error.code).toBe('frame_too_large');
    expect((error as Error).message).toBe(`frame of ${MAX_FRAME_BYTES + 1} bytes is over ${MAX_FRAME_BYTES}`);
  });
});

describe('messages', () => {
  it('allows no control characters or spaces in the strings of enroll and hello', () => {
    const hello = {
      type: 'hello',
      version: 2,
      edgeId: 'e_1',
      secret: 's',
      bootId: 'b',
      capabilities: ['tcp'],
      ruleCount: 0,
    };
    expect(edgeMessageSchema.safeParse(hello).success).toBe(true);
    for (const [key, value] of [
      ['edgeId', 'e_1\r\nforged'],
      ['edgeId', 'e 1'],
      ['secret', 's\u0000'],
      ['bootId', '\u001b[31m'],
      ['capabilities', ['tcp\n']],
    ] as const) {
      const result = edgeMessageSchema.safeParse({ ...hello, [key]: value });
      expect(result.success, `${key}: ${JSON.stringify(value)}`).toBe(false);
      expect(result.error?.issues[0]?.message).toBe(
        'must be visible ASCII characters (no spaces or control characters)',
      );
    }
    const enroll = { type: 'enroll', version: 2, code: 'abc', hostname: 'my host' };
    expect(edgeMessageSchema.safeParse(enroll).success).toBe(true);
    expect(edgeMessageSchema.safeParse({ ...enroll, hostname: 'h\nforged' }).success).toBe(false);
    expect(edgeMessageSchema.safeParse({ ...enroll, code: 'a\tb' }).success).toBe(false);
  });

  it('accepts what each side sends and refuses unknown types and keys', () => {
    expect(
      edgeMessageSchema.safeParse({
        type: 'ack',
        pushId: 1,
        results: [{ ruleId: 'r1', revision: 1, state: 'active' }],
      }).success,
    ).toBe(true);
    expect(edgeMessageSchema.safeParse({ type: 'ack', pushId: 1, results: [], extra: 1 }).success).toBe(
      false,
    );
    expect(edgeMessageSchema.safeParse({ type: 'push', pushId: 1 }).success).toBe(false);
    expect(
      serverMessageSchema.safeParse({
        type: 'push',
        pushId: 2,
        full: true,
        upsert: [
          {
            id: 'r1',
            revision: 3,
            owner: 'alice',
            rule: { name: 'web', listen: '127.0.0.1:1', targets: ['127.0.0.1:2'] },
          },
        ],
        remove: [],
      }).success,
    ).toBe(true);
    expect(
      serverMessageSchema.safeParse({ type: 'welcome', edgeId: 'e', name: 'n', statsIntervalMs: 5 }).success,
    ).toBe(false);
  });

  it('welcome may carry the replicas: 1..16 distinct addresses', () => {
    const welcome = { type: 'welcome', edgeId: 'e', name: 'n', statsIntervalMs: 1000 };
    const valid = (servers: unknown) => serverMessageSchema.safeParse({ ...welcome, servers }).success;
    expect(serverMessageSchema.safeParse(welcome).success).toBe(true);
    expect(
      valid([
        { host: '10.0.0.1', port: 7443 },
        { host: '::1', port: 7443 },
      ]),
    ).toBe(true);
    expect(valid([])).toBe(false);
    expect(valid([{ host: 'a', port: 0 }])).toBe(false);
    expect(
      valid([
        { host: 'a', port: 1 },
        { host: 'a', port: 1 },
      ]),
    ).toBe(false);
    expect(valid(Array.from({ length: 17 }, (_, i) => ({ host: 'a', port: i + 1 })))).toBe(false);
  });
});
