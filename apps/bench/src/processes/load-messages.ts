// The tasks the load generator's piscina workers run, and what they answer. Plain data: they
// cross a thread boundary by structured clone.

/**
 * The start line the tasks of one load share: each adds 1 to slot 0 once it is ready (its
 * connections open), and all start when it reaches `parties`, within `timeoutMs`.
 */
export interface StartBarrier {
  readonly buffer: SharedArrayBuffer;
  readonly parties: number;
  readonly timeoutMs: number;
}

/** Request/response over `connections` connections: send `size` bytes, wait for them back, repeat. */
export interface EchoTask {
  readonly kind: 'echo';
  readonly port: number;
  readonly connections: number;
  readonly size: number;
  readonly barrier: StartBarrier;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** `loops` concurrent loops of: connect, send `size` bytes, read them back, close. */
export interface ConnectTask {
  readonly kind: 'connect';
  readonly port: number;
  readonly loops: number;
  readonly size: number;
  readonly barrier: StartBarrier;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** autocannon against `url`. */
export interface HttpTask {
  readonly kind: 'http';
  readonly url: string;
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

export type LoadTask = EchoTask | ConnectTask | HttpTask;

/** What an echo or connect task measured in its window. */
export interface CountedResult {
  readonly kind: 'echo' | 'connect';
  /** Round trips (echo) or whole connections (connect) completed inside the measured window. */
  readonly completed: number;
  /** The window's length as the worker measured it, ms. */
  readonly windowMs: number;
  readonly errors: number;
  readonly firstError: string | null;
  /** Latencies in the window, µs, as an HdrHistogram (compressed, base64). */
  readonly histogram: string;
}

export interface HttpResult {
  readonly kind: 'http';
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p99: number;
    readonly p999: number;
    readonly mean: number;
    readonly max: number;
  };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly seconds: number;
}

export type LoadResult = CountedResult | HttpResult;
