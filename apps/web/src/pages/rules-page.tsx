// Every rule the caller may see, in a virtualised list with filters (edge, owner, state,
// protocol) and a search, kept in the URL's query so a filtered view can be shared. Rates come
// live from the stats stream.

import type { Edge, Rule } from '@sluice/api';
import { useMemo } from 'preact/hooks';
import { api, ok } from '../api/client.ts';
import { LoadView } from '../components/load-view.tsx';
import { VirtualList } from '../components/virtual-list.tsx';
import { formatRate } from '../format.ts';
import { navigate, useLocation } from '../router.ts';
import { filterRules, protocolOf, type RuleFilter } from '../rules/rule-filter.ts';
import { useLoad } from '../use-load.ts';
import { useStatsStream } from '../use-stats-stream.ts';

const ROW_HEIGHT = 34;

interface RulesData {
  readonly rules: readonly Rule[];
  readonly edges: readonly Edge[];
}

async function loadRules(): Promise<RulesData> {
  const [rules, edges] = await Promise.all([ok(api.GET('/v1/rules')), ok(api.GET('/v1/edges'))]);
  return { rules: rules.rules, edges: edges.edges };
}

function StateBadge({ rule }: { rule: Rule }) {
  return (
    <span class={`badge ${rule.state}`} title={rule.message ?? undefined}>
      {rule.state}
      {rule.reason !== null && `: ${rule.reason}`}
    </span>
  );
}

export function RulesPage() {
  const load = useLoad(loadRules, []);
  const { query } = useLocation();
  const stats = useStatsStream();
  const filter: RuleFilter = {
    edge: query.get('edge') ?? '',
    owner: query.get('owner') ?? '',
    state: query.get('state') ?? '',
    protocol: query.get('protocol') ?? '',
    search: query.get('q') ?? '',
  };
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(location.search);
    if (value === '') next.delete(key);
    else next.set(key, value);
    const text = next.toString();
    navigate(text === '' ? '/rules' : `/rules?${text}`, { replace: true });
  };
  const rules = load.data?.rules ?? [];
  const shown = useMemo(
    () => filterRules(rules, filter),
    [rules, filter.edge, filter.owner, filter.state, filter.protocol, filter.search],
  );
  const owners = useMemo(() => [...new Set(rules.map((rule) => rule.owner))].sort(), [rules]);

  return (
    <section>
      <div class="title-row">
        <h1>Rules</h1>
        <a class="button" href="/rules/new">
          New rule
        </a>
      </div>
      <LoadView load={load} what="rules">
        {(data) => (
          <>
            <form
              class="inline filters"
              aria-label="Filter rules"
              onSubmit={(event) => event.preventDefault()}
            >
              <label>
                Search
                <input
                  type="search"
                  value={filter.search}
                  placeholder="name, id, address"
                  onInput={(event) => setFilter('q', (event.currentTarget as HTMLInputElement).value)}
                />
              </label>
              <label>
                Edge
                <select
                  value={filter.edge}
                  onChange={(event) => setFilter('edge', event.currentTarget.value)}
                >
                  <option value="">all</option>
                  {data.edges.map((edge) => (
                    <option key={edge.id} value={edge.id}>
                      {edge.name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Owner
                <select
                  value={filter.owner}
                  onChange={(event) => setFilter('owner', event.currentTarget.value)}
                >
                  <option value="">all</option>
                  {owners.map((owner) => (
                    <option key={owner}>{owner}</option>
                  ))}
                </select>
              </label>
              <label>
                State
                <select
                  value={filter.state}
                  onChange={(event) => setFilter('state', event.currentTarget.value)}
                >
                  <option value="">all</option>
                  <option>pending</option>
                  <option>active</option>
                  <option>failed</option>
                </select>
              </label>
              <label>
                Protocol
                <select
                  value={filter.protocol}
                  onChange={(event) => setFilter('protocol', event.currentTarget.value)}
                >
                  <option value="">all</option>
                  <option>tcp</option>
                  <option>udp</option>
                </select>
              </label>
            </form>
            <p role="status" data-testid="rule-count">
              {shown.length === data.rules.length
                ? `${data.rules.length} rules`
                : `${shown.length} of ${data.rules.length} rules`}
            </p>
            {data.rules.length === 0 ? (
              <p class="empty">No rules yet: push one with “New rule”.</p>
            ) : shown.length === 0 ? (
              <p class="empty">No rule matches these filters.</p>
            ) : (
              <>
                <div class="rule-row rule-head" aria-hidden="true">
                  <span>Name</span>
                  <span>Edge</span>
                  <span>Owner</span>
                  <span>Listen</span>
                  <span>Proto</span>
                  <span>State</span>
                  <span>In / out</span>
                </div>
                <VirtualList
                  items={shown}
                  rowHeight={ROW_HEIGHT}
                  height={560}
                  label="Rules"
                  row={(rule) => {
                    const live = stats.byRule.get(rule.id);
                    return (
                      <li
                        class="rule-row"
                        key={rule.id}
                        data-rule={rule.name}
                        style={{ height: `${ROW_HEIGHT}px` }}
                      >
                        <a href={`/rules/${encodeURIComponent(rule.id)}`}>{rule.name}</a>
                        <span>{rule.edge.name}</span>
                        <span>{rule.owner}</span>
                        <span>{String(rule.rule.listen ?? '')}</span>
                        <span>{protocolOf(rule)}</span>
                        <StateBadge rule={rule} />
                        <span>
                          {formatRate(live?.bytesInPerSec ?? 0)} / {formatRate(live?.bytesOutPerSec ?? 0)}
                        </span>
                      </li>
                    );
                  }}
                />
              </>
            )}
          </>
        )}
      </LoadView>
    </section>
  );
}
