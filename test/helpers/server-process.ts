// sluice-server as a real child process: `node apps/server/src/main.ts serve` on a temp data dir
// and fixed free loopback ports (so a restart comes back on the same ones), its pino JSON lines
// (stderr) parsed as they arrive, the admin token it prints on first start (stdout), and a
// SIGKILL in the test's cleanup. Also its one-shot commands (backup, restore, user).

import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, killOnExit, LogProcess, pollUntil, serveArgs } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';
import { type CommandResult, commandResult } from './command-result.ts';
import { REPO_ROOT } from './edge-process.ts';

export const SERVER_MAIN = join(REPO_ROOT, 'apps', 'server', 'src', 'main.ts');

export interface ServerPorts {
  readonly control: number;
  readonly api: number;
  readonly metrics: number;
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_LOG_FORMAT: 'json' };
  delete env.SLUICE_LOG_LEVEL;
  return env;
}

/** The server's pino JSON lines come on stderr; stdout (the admin token) is kept as text. */
export class ServerProcess extends LogProcess {
  readonly dataDir: string;
  readonly ports: ServerPorts;

  constructor(child: ChildProcess, dataDir: string, ports: ServerPorts) {
    super(child, { name: 'server', logStream: 'stderr' });
    this.dataDir = dataDir;
    this.ports = ports;
  }

  get stdout(): string {
    return this.otherOutput;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.api}`;
  }

  /** The admin token this start printed (`admin token: TOKEN`), or null. */
  get adminToken(): string | null {
    return /^admin token: (\S+)$/m.exec(this.stdout)?.[1] ?? null;
  }

  override describe(lastLines = 40): string {
    const tail = this.logs.slice(-lastLines).map((log) => `  ${log.raw}`);
    return `server pid ${this.pid} (data dir ${this.dataDir}) log tail:\n${tail.join('\n')}\nstdout:\n${this.stdout.slice(-2000)}`;
  }
}

export interface StartServerOptions {
  readonly dataDir: string;
  /** Default: three fresh free ports. Pass the ports of a previous start to restart on them. */
  readonly ports?: ServerPorts;
  /** TOML written to DATA_DIR/../server-N.toml and passed as --config (ack_timeout_ms, ...). */
  readonly configToml?: string;
  readonly readyTimeoutMs?: number;
  /** More arguments of `serve` (`--store postgres://...`). */
  readonly args?: readonly string[];
}

let configFiles = 0;

/**
 * Starts `sluice-server serve` and resolves once it logged `sluice-server ready` on the asked
 * ports. A first start's admin token is read too. SIGKILLed by the test's cleanup.
 */
export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const ports: ServerPorts =
    options.ports ??
    (await freePorts(3).then(([control, api, metrics]) => ({
      control: control!,
      api: api!,
      metrics: metrics!,
    })));
  const args = [SERVER_MAIN, ...serveArgs(options.dataDir, ports), ...(options.args ?? [])];
  if (options.configToml !== undefined) {
    const file = `${options.dataDir.replace(/\/+$/, '')}-server-${++configFiles}.toml`;
    writeFileSync(file, options.configToml);
    args.push('--config', file);
  }
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = new ServerProcess(child, options.dataDir, ports);
  deferCleanup(async () => {
    await server.kill();
  });
  const ready = await server.waitForMsg('sluice-server ready', {}, options.readyTimeoutMs ?? 20_000);
  const expected = {
    control: `127.0.0.1:${ports.control}`,
    api: `127.0.0.1:${ports.api}`,
    metrics: `127.0.0.1:${ports.metrics}`,
  };
  for (const [key, value] of Object.entries(expected)) {
    if (ready[key] !== value) throw new Error(`server ready on ${key} ${String(ready[key])}, not ${value}`);
  }
  return server;
}

/** Waits for the admin token of a first start (stdout and stderr are separate pipes). */
export function adminTokenOf(server: ServerProcess, timeoutMs = 5_000): Promise<string> {
  return pollUntil(() => server.adminToken ?? undefined, {
    timeoutMs,
    what: `"admin token: ..." on the stdout of server pid ${server.pid}`,
  });
}

/** Runs `sluice-server ARGS` to completion (backup, restore, user). */
export function runServerCommand(args: readonly string[], timeoutMs = 20_000): Promise<CommandResult> {
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  return commandResult(child, `sluice-server ${args.join(' ')}`, timeoutMs);
}
