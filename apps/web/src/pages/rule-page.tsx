// One rule: its state as it moves (pending → active, or failed with the edge's reason; polled
// while pending), live throughput in and out on a chart fed by the stats stream, connections,
// rejects and connect errors, and its traffic history in 1 m or 1 h buckets over a chosen range.

import { type Rule, type RuleStats, TRAFFIC_BUCKETS, type Traffic } from '@sluice/api';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ok } from '../api/client.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { LoadView } from '../components/load-view.tsx';
import { TimeChart } from '../components/time-chart.tsx';
import { formatBytes, formatRate, formatTime } from '../format.ts';
import { navigate } from '../router.ts';
import { useInterval } from '../use-interval.ts';
import { useLoad } from '../use-load.ts';
import { useStatsStream } from '../use-stats-stream.ts';

const LIVE_POINTS = 120;

const RANGES = {
  '1h': { ms: 3_600_000, bucket: '1m' },
  '24h': { ms: 24 * 3_600_000, bucket: '1m' },
  '7d': { ms: 7 * 24 * 3_600_000, bucket: '1h' },
  '30d': { ms: 30 * 24 * 3_600_000, bucket: '1h' },
} as const;
type Range = keyof typeof RANGES;

interface LiveSeries {
  readonly times: number[];
  readonly bytesIn: number[];
  readonly bytesOut: number[];
}

/** Every bucket of the range, the empty ones as zeros (the API answers only those with traffic). */
function everyBucket(traffic: Traffic): LiveSeries {
  const width = TRAFFIC_BUCKETS[traffic.bucket];
  const byStart = new Map(traffic.samples.map((sample) => [Date.parse(sample.at), sample]));
  const series: LiveSeries = { times: [], bytesIn: [], bytesOut: [] };
  for (let at = Date.parse(traffic.from); at < Date.parse(traffic.to); at += width) {
    const sample = byStart.get(at);
    series.times.push(at / 1000);
    series.bytesIn.push(sample?.bytesIn ?? 0);
    series.bytesOut.push(sample?.bytesOut ?? 0);
  }
  return series;
}

function History({ rule }: { rule: Rule }) {
  const [range, setRange] = useState<Range>('1h');
  const traffic = useLoad(async (): Promise<Traffic> => {
    const to = new Date();
    const from = new Date(to.getTime() - RANGES[range].ms);
    return ok(
      api.GET('/v1/traffic', {
        params: {
          query: {
            rule: rule.id,
            bucket: RANGES[range].bucket,
            from: from.toISOString(),
            to: to.toISOString(),
          },
        },
      }),
    );
  }, [rule.id, range]);
  const series = useMemo(
    () => (traffic.data === undefined ? null : everyBucket(traffic.data)),
    [traffic.data],
  );
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Traffic history</h2>
      <label class="checkbox">
        Range{' '}
        <select value={range} onChange={(event) => setRange(event.currentTarget.value as Range)}>
          {Object.keys(RANGES).map((key) => (
            <option key={key} value={key}>
              last {key} ({RANGES[key as Range].bucket} buckets)
            </option>
          ))}
        </select>
      </label>
      <LoadView
        load={traffic}
        what="traffic history"
        empty={(data) => (data.samples.length === 0 ? 'No traffic in this range.' : null)}
      >
        {(data) => (
          <>
            <p data-testid="history-totals">
              In {formatBytes(data.totals.bytesIn)}, out {formatBytes(data.totals.bytesOut)} in{' '}
              {data.samples.length} bucket(s) of {data.bucket}
            </p>
            {series !== null && (
              <TimeChart label="Traffic history, bytes per bucket" unit="bytes" {...series} />
            )}
          </>
        )}
      </LoadView>
    </section>
  );
}

export function RulePage({ id }: { id: string }) {
  const load = useLoad(() => ok(api.GET('/v1/rules/{id}', { params: { path: { id } } })), [id]);
  const initial = useLoad(() => ok(api.GET('/v1/rules/{id}/stats', { params: { path: { id } } })), [id]);
  const [live, setLive] = useState<LiveSeries>({ times: [], bytesIn: [], bytesOut: [] });
  const stream = useStatsStream(id, (stats: RuleStats) => {
    setLive((previous) => ({
      times: [...previous.times, Date.parse(stats.at ?? new Date().toISOString()) / 1000].slice(-LIVE_POINTS),
      bytesIn: [...previous.bytesIn, stats.bytesInPerSec].slice(-LIVE_POINTS),
      bytesOut: [...previous.bytesOut, stats.bytesOutPerSec].slice(-LIVE_POINTS),
    }));
  });
  // A pending rule moves when the edge acks; poll until it does.
  const pending = load.data?.state === 'pending';
  useInterval(pending ? load.reload : noop, 1_000);
  useEffect(() => setLive({ times: [], bytesIn: [], bytesOut: [] }), [id]);
  const stats = stream.byRule.get(id) ?? initial.data;

  return (
    <LoadView load={load} what="the rule">
      {(rule) => (
        <section>
          <div class="title-row">
            <h1>{rule.name}</h1>
            <span class={`badge ${rule.state}`} data-testid="rule-state">
              {rule.state}
              {rule.reason !== null && `: ${rule.reason}`}
            </span>
            <a class="button" href={`/rules/${encodeURIComponent(rule.id)}/edit`}>
              Edit
            </a>
            <ConfirmButton
              label={`Remove ${rule.name}`}
              consequence={`Remove ${rule.name} from ${rule.edge.name}? The edge stops listening on ${String(rule.rule.listen ?? '')} and drains its open connections.`}
              action={() => ok(api.DELETE('/v1/rules/{id}', { params: { path: { id: rule.id } } }))}
              onDone={() => navigate('/rules')}
            />
          </div>
          {rule.state === 'pending' && (
            <p class="notice" role="status">
              Waiting for {rule.edge.name} to acknowledge revision {rule.revision}…
            </p>
          )}
          {rule.message !== null && <p class="problem">{rule.message}</p>}
          <p>
            {rule.id} on <a href={`/rules?edge=${encodeURIComponent(rule.edge.id)}`}>{rule.edge.name}</a>,
            owner {rule.owner}, revision {rule.revision}, listen <code>{String(rule.rule.listen ?? '')}</code>
            , updated {formatTime(rule.updatedAt)}
          </p>
          <h2>Live</h2>
          {stats === undefined ? (
            <p class="loading">Loading the rule's traffic…</p>
          ) : (
            <div class="stat-grid" data-testid="rule-stats">
              <div>
                <span>Bytes in</span>
                <strong data-testid="bytes-in" data-value={stats.bytesIn} title={`${stats.bytesIn} bytes`}>
                  {formatBytes(stats.bytesIn)}
                </strong>
              </div>
              <div>
                <span>Bytes out</span>
                <strong data-testid="bytes-out" data-value={stats.bytesOut} title={`${stats.bytesOut} bytes`}>
                  {formatBytes(stats.bytesOut)}
                </strong>
              </div>
              <div>
                <span>Rate in / out</span>
                <strong>
                  {formatRate(stats.bytesInPerSec)} / {formatRate(stats.bytesOutPerSec)}
                </strong>
              </div>
              <div>
                <span>Active connections</span>
                <strong data-testid="active">{stats.activeConnections}</strong>
              </div>
              <div>
                <span>Connections</span>
                <strong data-testid="connections">{stats.connectionsTotal}</strong>
              </div>
              <div>
                <span>Rejected</span>
                <strong data-testid="rejected">{stats.rejected}</strong>
              </div>
              <div>
                <span>Connect errors</span>
                <strong>{stats.connectErrors}</strong>
              </div>
              <div>
                <span>Last report</span>
                <strong>{formatTime(stats.at)}</strong>
              </div>
            </div>
          )}
          {stats !== undefined && <RejectsByReason counts={stats.rejectedByReason} />}
          <p class="loading">
            {stream.live ? 'Live: updates with every edge report.' : 'Connecting to the live stream…'}
          </p>
          <TimeChart label="Live throughput in and out" {...live} />
          <History rule={rule} />
        </section>
      )}
    </LoadView>
  );
}

function noop(): void {}

/** The rule's rejects by reason (sluice_rule_rejected_total's labels), most first. */
function RejectsByReason({ counts }: { counts: Readonly<Record<string, number>> }) {
  const rows = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (rows.length === 0) return <p class="empty">No connection rejected.</p>;
  return (
    <table data-testid="rejects-by-reason">
      <caption>Rejected, by reason</caption>
      <thead>
        <tr>
          <th scope="col">Reason</th>
          <th scope="col">Count</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([reason, n]) => (
          <tr key={reason}>
            <td>{reason}</td>
            <td>{n}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
