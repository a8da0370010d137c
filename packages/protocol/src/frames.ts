// Framing on the control session: each message is a 4-byte big-endian length and that many
// bytes of UTF-8 JSON. A TLS stream delivers bytes in any split, so the reader reassembles.

import { defineErrors } from '@sluice/errors';

/** Why a byte stream is not a control session: the peer is answered `protocol_error` and closed. */
export const FRAME_ERRORS = defineErrors('frame', {
  frame_too_large: { message: 'frame of {bytes} bytes is over {max}' },
  frame_not_json: { message: 'frame is not JSON: {reason}' },
});

/** The largest frame either side accepts: a full push of thousands of rules fits easily. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const LENGTH_BYTES = 4;

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME_BYTES)
    throw FRAME_ERRORS.error('frame_too_large', { bytes: body.length, max: MAX_FRAME_BYTES });
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, LENGTH_BYTES);
  return frame;
}

/**
 * Frames a peer may send before it has authenticated (an enroll or a hello): a few KiB, so a
 * stranger cannot make the server buffer and parse megabytes.
 */
export const PRE_AUTH_MAX_FRAME_BYTES = 8 * 1024;

/**
 * Collects bytes and yields whole frames, parsed as JSON (not yet validated). Each byte is copied
 * at most once, when its frame is complete: a large frame arriving in many chunks costs time
 * linear in its size.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the frame being collected, once its 4 length bytes are in; -1 before. */
  private bodyLength = -1;
  private maxBytes: number;

  constructor(maxBytes = MAX_FRAME_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Frames longer than this are refused from now on (raised once a peer has authenticated). */
  set limit(bytes: number) {
    this.maxBytes = bytes;
  }

  /** Adds bytes; returns every frame now complete. Throws a FRAME_ERRORS error on a bad length or JSON. */
  push(chunk: Buffer): unknown[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: unknown[] = [];
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.buffered < LENGTH_BYTES) return out;
        this.bodyLength = this.take(LENGTH_BYTES).readUInt32BE(0);
      }
      if (this.bodyLength > this.maxBytes)
        throw FRAME_ERRORS.error('frame_too_large', { bytes: this.bodyLength, max: this.maxBytes });
      if (this.buffered < this.bodyLength) return out;
      const body = this.take(this.bodyLength);
      this.bodyLength = -1;
      try {
        out.push(JSON.parse(body.toString('utf8')));
      } catch (error) {
        throw FRAME_ERRORS.error('frame_not_json', { reason: (error as Error).message });
      }
    }
  }

  /** Removes the first `bytes` buffered bytes (there are at least that many) and returns them. */
  private take(bytes: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first !== undefined && first.length >= bytes) {
      out = first.subarray(0, bytes);
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
    } else {
      out = Buffer.allocUnsafe(bytes);
      let filled = 0;
      while (filled < bytes) {
        const head = this.chunks[0]!;
        const n = Math.min(head.length, bytes - filled);
        head.copy(out, filled, 0, n);
        filled += n;
        if (n === head.length) this.chunks.shift();
        else this.chunks[0] = head.subarray(n);
      }
    }
    this.buffered -= bytes;
    return out;
  }
}
