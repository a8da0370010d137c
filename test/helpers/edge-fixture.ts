// The usual start of a test: a scratch dir, a free metrics port, the config written to a file,
// the edge started and ready, and a metrics client pointed at it.

import { freePort } from '@sluice/test-kit';
import { type EdgeConfig, writeConfig } from './edge-config.ts';
import { type EdgeProcess, startEdge } from './edge-process.ts';
import { MetricsClient } from './metrics.ts';
import type { RelayPath } from './relay-paths.ts';
import { makeTempDir } from './temp-dir.ts';

export interface LaunchedEdge {
  readonly edge: EdgeProcess;
  readonly metrics: MetricsClient;
  readonly metricsPort: number;
  readonly configFile: string;
  /** Rewrites the config file in place (a typed config, or raw TOML), e.g. before a SIGHUP. */
  rewrite(config: Omit<EdgeConfig, 'metricsPort'> | string): void;
}

export interface LaunchOptions {
  readonly relayPath: RelayPath;
  readonly config: Omit<EdgeConfig, 'metricsPort'>;
  readonly env?: Record<string, string>;
  readonly waitReady?: boolean;
  readonly nodeArgs?: readonly string[];
  /** RLIMIT_NOFILE for the edge (soft and hard), set through prlimit. */
  readonly nofile?: { readonly soft: number; readonly hard: number };
}

export async function launchEdge(options: LaunchOptions): Promise<LaunchedEdge> {
  const dir = makeTempDir();
  const metricsPort = await freePort();
  const configFile = writeConfig(dir, { ...options.config, metricsPort });
  const edge = await startEdge({
    configFile,
    relayPath: options.relayPath,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.waitReady === undefined ? {} : { waitReady: options.waitReady }),
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
    ...(options.nofile === undefined ? {} : { nofile: options.nofile }),
  });
  return {
    edge,
    metrics: new MetricsClient(metricsPort),
    metricsPort,
    configFile,
    rewrite(config) {
      writeConfig(dir, typeof config === 'string' ? config : { ...config, metricsPort });
    },
  };
}
