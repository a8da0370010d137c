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

/** Collects bytes and yields whole frames, parsed as JSON (not yet validated). */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Adds bytes; returns every frame now complete. Throws a FRAME_ERRORS error on a bad length or JSON. */
  push(chunk: Buffer): unknown[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.pendingBytes < LENGTH_BYTES) return out;
      const head = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [head];
      const length = head.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES)
        throw FRAME_ERRORS.error('frame_too_large', { bytes: length, max: MAX_FRAME_BYTES });
      if (head.length < LENGTH_BYTES + length) return out;
      const body = head.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
      const rest = head.subarray(LENGTH_BYTES + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      try {
        out.push(JSON.parse(body.toString('utf8')));
      } catch (error) {
        throw FRAME_ERRORS.error('frame_not_json', { reason: (error as Error).message });
      }
    }
  }
}
