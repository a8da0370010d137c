// Which addresses the splice addon can take as they are: it reads them with inet_pton, so an IP
// literal without a zone. A name needs the DNS cache, and an IPv6 zone (`fe80::1%eth0`) an
// interface lookup; rules with either stay on the JS paths, whose Node sockets do both.

import { isIP } from 'node:net';

export function addonReadsAddress(host: string): boolean {
  return isIP(host) !== 0 && !host.includes('%');
}
