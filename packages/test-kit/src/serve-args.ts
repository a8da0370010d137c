// The command line of `sluice-server serve` as tests and the bench run it: every listener on
// loopback, at port 0 (the kernel picks) unless the caller holds ports for it.

export interface ServeListenPorts {
  readonly control: number;
  readonly api: number;
  readonly metrics: number;
}

export function serveArgs(
  dataDir: string,
  ports: ServeListenPorts = { control: 0, api: 0, metrics: 0 },
): string[] {
  return [
    'serve',
    '--data-dir',
    dataDir,
    '--control',
    `127.0.0.1:${ports.control}`,
    '--api',
    `127.0.0.1:${ports.api}`,
    '--metrics',
    `127.0.0.1:${ports.metrics}`,
  ];
}
