import { isIP as nodeIsIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isIP } from './node-net.ts';

// The browser's isIP must answer as node's does, or the console and the server would disagree
// on a rule's addresses.
const SAMPLES = [
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.1.1.1',
  '1.2.3',
  '01.2.3.4',
  '1.2.3.4.5',
  '::',
  '::1',
  '2001:db8::1',
  'fe80::1:2:3:4',
  '::ffff:10.0.0.1',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1::2::3',
  'gggg::1',
  'example.com',
  'a.example.com',
  '',
  ':',
  '[::1]',
  '10.0.0.1/8',
  'localhost',
];

describe('the node:net stand-in', () => {
  it.each(SAMPLES)('isIP(%j) as node answers', (sample) => {
    expect(isIP(sample)).toBe(nodeIsIP(sample));
  });
});
