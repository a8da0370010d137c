import { Writable } from 'node:stream';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { describe, expect, it } from 'vitest';
import { PRETTY } from './logger.ts';

describe('the terminal log format', () => {
  it('escapes control characters in the message, so a peer cannot forge a line or drive the terminal', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        out += String(chunk);
        done();
      },
    });
    const logger = pino({}, pinoPretty({ ...PRETTY, colorize: false, destination: sink }));
    logger.info({ edgeId: 'e_1\r\nx' }, 'edge.hello refused: edge e_1\r\n[12:00:00] INFO forged\u001b[2J');
    expect(out.split('\n').filter((line) => line !== '')).toHaveLength(2);
    expect(out).toContain('edge.hello refused: edge e_1\\r\\n[12:00:00] INFO forged\\u001b[2J');
    expect(out).toContain('edgeId: "e_1\\r\\nx"');
  });
});
