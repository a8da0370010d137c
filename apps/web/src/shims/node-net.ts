// The browser's stand-in for node:net, for @sluice/config's address checks: the same answers as
// node's isIP for the literals a rule holds (dotted-quad IPv4, and IPv6 as the URL parser
// accepts it inside brackets, which is the grammar of RFC 4291 plus an optional zone-less form).

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(input: string): boolean {
  return IPV4.test(input);
}

export function isIPv6(input: string): boolean {
  if (!input.includes(':') || /[^0-9a-fA-F:.]/.test(input)) return false;
  try {
    new URL(`http://[${input}]/`);
    return true;
  } catch {
    return false;
  }
}

export function isIP(input: string): number {
  if (isIPv4(input)) return 4;
  if (isIPv6(input)) return 6;
  return 0;
}
