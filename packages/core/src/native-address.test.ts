import { describe, expect, it } from 'vitest';
import { addonReadsAddress } from './native-address.ts';

describe('addonReadsAddress', () => {
  it.each(['127.0.0.1', '0.0.0.0', '::1', '::', 'fe80::1', '::ffff:10.0.0.1'])(
    'takes the IP literal %s',
    (host) => {
      expect(addonReadsAddress(host)).toBe(true);
    },
  );

  it.each(['fe80::1%lo', 'fe80::1%eth0', 'localhost', 'edge.example', '', '1.2.3'])(
    'leaves %j to Node',
    (host) => {
      expect(addonReadsAddress(host)).toBe(false);
    },
  );
});
