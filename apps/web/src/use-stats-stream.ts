// Live rule stats from GET /v1/stats/stream (server-sent events): the latest RuleStats per rule,
// each event checked with the server's own schema. EventSource reconnects by itself; the
// `live` flag says whether the stream is open now.

import { type RuleStats, ruleStatsSchema } from '@sluice/api';
import { useEffect, useState } from 'preact/hooks';
import { apiUrl } from './api/client.ts';

export interface StatsStream {
  readonly byRule: ReadonlyMap<string, RuleStats>;
  readonly live: boolean;
}

export function useStatsStream(rule?: string, onStats?: (stats: RuleStats) => void): StatsStream {
  const [byRule, setByRule] = useState<ReadonlyMap<string, RuleStats>>(new Map());
  const [live, setLive] = useState(false);
  useEffect(() => {
    const source = new EventSource(apiUrl('/v1/stats/stream', { rule }));
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    source.addEventListener('stats', (event) => {
      const parsed = ruleStatsSchema.safeParse(JSON.parse((event as MessageEvent<string>).data));
      if (!parsed.success) return;
      onStats?.(parsed.data);
      setByRule((previous) => new Map(previous).set(parsed.data.rule, parsed.data));
    });
    return () => source.close();
  }, [rule]);
  return { byRule, live };
}
