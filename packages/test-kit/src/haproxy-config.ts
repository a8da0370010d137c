// HAProxy in TCP mode, one thread, generous timeouts: the part of every test's haproxy.cfg that
// is not its own `listen` sections.

/** A whole haproxy.cfg: the fixed global and defaults, then `sections`. */
export function haproxyConfig(sections: string): string {
  return [
    'global',
    '  nbthread 1',
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    '',
    sections,
    '',
  ].join('\n');
}
