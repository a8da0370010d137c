// The standalone edge's rules: the TOML file it was started with, applied at start and read
// again on SIGHUP. A file that does not validate is rejected and nothing changes; `shards`,
// `metrics` and `name` keep their running values until a restart.

import type { StandaloneConfig } from '@sluice/config';
import { CONFIG_ERRORS } from '@sluice/config/errors';
import type { ApplyResult } from '@sluice/core';
import { readStandaloneConfig } from './config-reader.ts';
import { maxConnections, maxWaiting, readDescriptorLimit } from './descriptor-limit.ts';
import type { EdgeSettings } from './edge-runtime.ts';
import { EDGE_ERRORS } from './errors.ts';
import type { RuleSource, RuleSourceContext } from './rule-source.ts';

/** The EdgeRuntime settings a standalone edge takes from its file. */
export function runtimeSettings(config: StandaloneConfig): EdgeSettings {
  return {
    name: config.name,
    shards: config.shards,
    metrics: config.metrics,
    drainTimeoutSecs: config.drainTimeoutSecs,
    maxConnections: config.maxConnections,
    maxConnectionsFrom: config.file,
  };
}

export class FileRuleSource implements RuleSource {
  readonly mode = 'standalone';
  private config: StandaloneConfig;
  private context: RuleSourceContext | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(config: StandaloneConfig) {
    this.config = config;
  }

  async start(context: RuleSourceContext): Promise<Readonly<Record<string, unknown>>> {
    this.context = context;
    const result = await context.supervisor.apply(this.config.rules, this.config.owners);
    return { rules: this.config.rules.length, failed: result.failed.length };
  }

  /** Re-reads the file, after any reload still running. */
  reload(): Promise<void> {
    this.context?.log.info({ file: this.config.file }, 'reload requested (SIGHUP)');
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  handOff(): null {
    return null;
  }

  carry(): void {
    // A file's rules have no counters that outlive the process.
  }

  stop(): void {
    this.stopped = true;
  }

  private async reloadNow(): Promise<void> {
    const context = this.context;
    if (this.stopped || !context) return;
    const { supervisor, log } = context;
    let next: StandaloneConfig;
    let limit: number;
    let waiting: number;
    try {
      next = await readStandaloneConfig(this.config.file);
      const nofile = readDescriptorLimit();
      limit = maxConnections(next.maxConnections, nofile, next.file);
      waiting = maxWaiting(limit, nofile);
    } catch (err) {
      const data =
        CONFIG_ERRORS.is(err) || EDGE_ERRORS.is(err)
          ? err.toData()
          : { code: 'reload_failed', message: String(err) };
      log.error({ err: data, file: this.config.file }, 'reload rejected');
      return;
    }
    for (const key of ['shards', 'metrics', 'name'] as const) {
      if (JSON.stringify(next[key]) !== JSON.stringify(this.config[key])) {
        log.warn({ key, file: next.file }, `reload: a change of "${key}" takes effect at the next restart`);
      }
    }
    // Applies to rules retired by this reload and to the final drain.
    supervisor.drainTimeoutMs = next.drainTimeoutSecs * 1000;
    // Applies to the next accept: lowering it closes no connection, new ones wait until below.
    supervisor.maxConnections = limit;
    supervisor.maxWaiting = waiting;
    const result: ApplyResult = await supervisor.apply(next.rules, next.owners);
    this.config = {
      ...next,
      shards: this.config.shards,
      metrics: this.config.metrics,
      name: this.config.name,
    };
    log.info(
      {
        added: result.added,
        removed: result.removed,
        changed: result.changed,
        unchanged: result.unchanged.length,
        failed: result.failed.map((f) => ({ rule: f.name, reason: f.error.code })),
      },
      'reload applied',
    );
  }
}
