// The managed edge's rules: whatever the server pushes over the control session. Each push is
// applied (pushed-rule-set.ts) and acked; cumulative stats go back every statsIntervalMs. The data
// plane never waits on the session: while it is down the rules keep forwarding, and the server's
// full push on the next session reconciles. A revoked edge drains and exits (exit code 5).

import { randomUUID } from 'node:crypto';
import type { Bundle } from '@sluice/protocol';
import type { Backoff } from './backoff.ts';
import { ControlClient } from './control-client.ts';
import { EDGE_ERRORS } from './errors.ts';
import { PushedRuleSet } from './pushed-rule-set.ts';
import type { RuleSource, RuleSourceContext } from './rule-source.ts';
import { RuleStatsCollector } from './rule-stats-collector.ts';

export interface ServerRuleSourceOptions {
  readonly bundle: Bundle;
  readonly backoff?: Backoff;
  readonly silenceTimeoutMs?: number;
  readonly pingIntervalMs?: number;
}

const REVOKED_EXIT_CODE = EDGE_ERRORS.table.edge_revoked.exitCode;

export class ServerRuleSource implements RuleSource {
  readonly mode = 'managed';
  /** A fresh id per process: the server re-baselines cumulative stats when it changes. */
  readonly bootId = randomUUID();
  private readonly options: ServerRuleSourceOptions;
  private client: ControlClient | null = null;
  private context: RuleSourceContext | null = null;

  constructor(options: ServerRuleSourceOptions) {
    this.options = options;
  }

  async start(context: RuleSourceContext): Promise<Readonly<Record<string, unknown>>> {
    this.context = context;
    const { supervisor, log } = context;
    const { bundle } = this.options;
    const rules = new PushedRuleSet(supervisor);
    const stats = new RuleStatsCollector(supervisor);
    const capabilities = [
      'tcp',
      'udp',
      'sni',
      'proxy_protocol',
      'qos',
      ...(supervisor.splice.enabled ? ['splice'] : []),
    ];
    const client = new ControlClient({
      target: { host: bundle.server.host, port: bundle.server.port, pin: bundle.pin },
      edgeId: bundle.edgeId,
      secret: bundle.secret,
      bootId: this.bootId,
      capabilities,
      log,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      ...(this.options.silenceTimeoutMs ? { silenceTimeoutMs: this.options.silenceTimeoutMs } : {}),
      ...(this.options.pingIntervalMs ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
      handler: {
        helloRules: () => rules.current(),
        push: async (push) => {
          const { results, apply } = await rules.push(push);
          const count = (state: string) => results.filter((r) => r.state === state).length;
          log.info(
            {
              push_id: push.pushId,
              full: push.full,
              active: count('active'),
              failed: results
                .filter((r) => r.state === 'failed')
                .map((r) => ({ rule_id: r.ruleId, reason: r.code })),
              removed: count('removed'),
              added: apply?.added ?? [],
              changed: apply?.changed ?? [],
              rules: rules.size,
            },
            'rules applied',
          );
          return results;
        },
        stats: () => stats.collect(rules.ids(), rules.idsByName()),
      },
    });
    this.client = client;
    client.on('revoked', (error) => {
      log.error(
        { reason: error.code, detail: error.message, exit_code: REVOKED_EXIT_CODE },
        'edge revoked: draining and exiting; enroll again to manage this host',
      );
      context.shutdown(REVOKED_EXIT_CODE);
    });
    client.start();
    return {
      edge_id: bundle.edgeId,
      server: `${bundle.server.host}:${bundle.server.port}`,
      boot_id: this.bootId,
    };
  }

  async reload(): Promise<void> {
    this.context?.log.info({}, 'SIGHUP ignored: a managed edge takes its rules from the server');
  }

  stop(): void {
    this.client?.stop();
  }
}
