// nginx's stream module as a user would set it up for plain forwarding: worker_processes 2, a
// generated config, run in the foreground (daemon off) with its own prefix, pid file and error
// log on stderr. With `udp`, a second server block relays UDP on the same port (reuseport, so
// one client's datagrams stay with one worker).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Contender, RunningContender, StartOptions } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { openFileLimit } from '../fd-budget.ts';
import { waitForSocket } from '../ports.ts';
import { makeTempDir } from '../temp-dir.ts';
import { installHint, missingTool, requireTool } from '../tools.ts';
import { spawnContender } from './spawn-contender.ts';

const WORKERS = 2;
/** The Debian packages of nginx and its stream module (scripts/system-deps.sh installs both). */
const NGINX_PACKAGES = 'nginx libnginx-mod-stream';
/** Where Debian's libnginx-mod-stream (and most distributions) put the dynamic module. */
const MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/lib64/nginx/modules', '/usr/share/nginx/modules'];
const MODULE_FILE = 'ngx_stream_module.so';

interface StreamModule {
  /** The load_module path when the module is dynamic; null when built in. */
  readonly load: string | null;
}

/** How this nginx gets its stream module, or why it cannot. */
function streamModule(binary: string): StreamModule | string {
  const result = spawnSync(binary, ['-V'], { encoding: 'utf8', timeout: 5000 });
  if (result.error) return `nginx -V failed: ${result.error.message}`;
  const configure = `${result.stderr ?? ''}${result.stdout ?? ''}`;
  if (/--with-stream(\s|$)/.test(configure)) return { load: null };
  const modulesPath = /--modules-path=(\S+)/.exec(configure)?.[1];
  for (const dir of [...(modulesPath === undefined ? [] : [modulesPath]), ...MODULE_DIRS]) {
    const file = join(dir, MODULE_FILE);
    if (existsSync(file)) return { load: file };
  }
  return `nginx has no stream module (${installHint(NGINX_PACKAGES)})`;
}

export interface NginxConfigOptions {
  readonly prefix: string;
  readonly listenPort: number;
  readonly targetPort: number;
  readonly udp: boolean;
  /** The load_module line's path, or null when the stream module is built in. */
  readonly streamModule: string | null;
  /** Descriptors per worker (worker_rlimit_nofile); connections per worker follow from it. */
  readonly fileLimit: number;
}

export function nginxConfig(o: NginxConfigOptions): string {
  return [
    ...(o.streamModule === null ? [] : [`load_module ${o.streamModule};`]),
    'daemon off;',
    `worker_processes ${WORKERS};`,
    `pid ${join(o.prefix, 'nginx.pid')};`,
    'error_log stderr warn;',
    `worker_rlimit_nofile ${o.fileLimit};`,
    '',
    'events {',
    // nginx counts both sides of a proxied connection against worker_connections.
    `  worker_connections ${o.fileLimit};`,
    '}',
    '',
    'stream {',
    '  server {',
    `    listen 127.0.0.1:${o.listenPort};`,
    `    proxy_pass 127.0.0.1:${o.targetPort};`,
    '    proxy_connect_timeout 3s;',
    '    proxy_timeout 1h;',
    '  }',
    ...(o.udp
      ? [
          '  server {',
          `    listen 127.0.0.1:${o.listenPort} udp reuseport;`,
          `    proxy_pass 127.0.0.1:${o.targetPort};`,
          '    proxy_timeout 60s;',
          '  }',
        ]
      : []),
    '}',
    '',
  ].join('\n');
}

export const nginx: Contender = {
  id: 'nginx',
  label: `nginx stream (${WORKERS} workers)`,
  relay: 'user-space',
  description: `nginx stream module, daemon off, worker_processes ${WORKERS}, proxy_pass (TCP; UDP with reuseport)`,

  async unavailableReason(): Promise<string | null> {
    const missing = missingTool('nginx', NGINX_PACKAGES);
    if (missing !== null) return missing;
    const module = streamModule(requireTool('nginx', NGINX_PACKAGES));
    return typeof module === 'string' ? module : null;
  },

  async start(listenPort: number, targetPort: number, options: StartOptions = {}): Promise<RunningContender> {
    const binary = requireTool('nginx', NGINX_PACKAGES);
    const module = streamModule(binary);
    if (typeof module === 'string') {
      throw BENCH_ERRORS.error('contender_start_failed', { contender: 'nginx', reason: module });
    }
    const dir = makeTempDir('nginx');
    mkdirSync(join(dir.path, 'logs'));
    const configFile = join(dir.path, 'nginx.conf');
    const limit = openFileLimit();
    writeFileSync(
      configFile,
      nginxConfig({
        prefix: dir.path,
        listenPort,
        targetPort,
        udp: options.udp ?? false,
        streamModule: module.load,
        fileLimit: limit === null || !Number.isFinite(limit.hard) ? 20_000 : limit.hard,
      }),
    );
    // SIGTERM is nginx's fast shutdown: workers close their connections and exit.
    return spawnContender({
      contender: 'nginx',
      name: 'nginx',
      command: binary,
      // -e: the error log before the config is read, which would otherwise be /var/log/nginx.
      args: ['-p', dir.path, '-c', configFile, '-e', 'stderr'],
      ready: (proc) => waitForSocket('tcp', listenPort, 'nginx', 15_000, () => proc.running),
      connectPort: listenPort,
      dir,
    });
  },
};
