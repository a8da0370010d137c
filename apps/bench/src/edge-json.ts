// An edge's own /metrics?format=json, as the bench's commands read it (the control-plane bench,
// the soak, the chaos run): the few fields they use, or null while the edge does not answer.

export interface EdgeJsonView {
  readonly connections: { readonly open: number };
  readonly shards: { readonly running: number; readonly restarts: number };
  readonly rules: readonly {
    readonly name: string;
    readonly state: string;
    readonly connections_total: number;
    readonly udp?: { readonly active_flows: number };
  }[];
}

export async function readEdgeJson(metricsPort: number, timeoutMs = 10_000): Promise<EdgeJsonView | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics?format=json`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) return null;
    return (await response.json()) as EdgeJsonView;
  } catch {
    return null;
  }
}
