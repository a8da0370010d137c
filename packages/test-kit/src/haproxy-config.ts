// The HAProxy config every test runs with: one thread, TCP mode, timeouts long enough for a
// slow CI host. The test gives the `listen` sections.

/** A whole haproxy.cfg: the fixed global and defaults part, then `sections`. */
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
