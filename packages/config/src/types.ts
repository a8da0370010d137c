// The validated, frozen shape that every consumer of a config sees. TOML keys are snake_case;
// this model is camelCase and fully defaulted, so the data plane never re-checks input.

export type Protocol = 'tcp' | 'udp';
export type Balance = 'failover' | 'round-robin';
export type ProxyProtocol = 'off' | 'v1' | 'v2';

/** `host:port` or `host:lo-hi`; host is an IP literal (IPv6 without brackets) or a DNS name. */
export interface ListenSpec {
  readonly host: string;
  readonly portLo: number;
  readonly portHi: number;
}

/** A target; ports are null when the target inherits the listen port (port ranges). */
export interface TargetSpec {
  readonly host: string;
  readonly portLo: number | null;
  readonly portHi: number | null;
}

export interface BandwidthSpec {
  readonly bytesPerSec: number;
  readonly burstBytes: number;
}

export interface LimitsSpec {
  readonly bandwidthIn: BandwidthSpec | null;
  readonly bandwidthOut: BandwidthSpec | null;
  readonly newConnectionsPerSec: number | null;
  readonly newConnectionsBurst: number | null;
  readonly maxConnections: number | null;
}

export interface SniRoute {
  /** Lower-cased; `*.example.org` matches exactly one label. */
  readonly name: string;
  readonly target: TargetSpec;
}

export interface RuleSpec {
  readonly name: string;
  readonly listen: ListenSpec;
  readonly targets: readonly TargetSpec[];
  readonly protocol: Protocol;
  readonly balance: Balance;
  readonly connectTimeoutMs: number;
  /** TCP: a pair with one direction closed and no bytes moving for this long is closed. */
  readonly halfCloseTimeoutMs: number;
  /** UDP: a flow with no datagram either way for this long ends. */
  readonly idleTimeoutMs: number;
  readonly maxFlows: number;
  /** UDP: SO_RCVBUF asked for the listening sockets and each flow's upstream socket, in bytes. */
  readonly udpReceiveBufferBytes: number;
  readonly proxyProtocol: ProxyProtocol;
  readonly acceptProxy: boolean;
  readonly owner: string;
  readonly limits: LimitsSpec;
  readonly sni: readonly SniRoute[] | null;
  readonly preferIpv6: boolean;
  /** Active probe of down targets (a TCP connect) this often; null: passive health only. */
  readonly healthCheckIntervalMs: number | null;
}

export interface OwnerSpec {
  readonly limits: LimitsSpec;
}

export interface StandaloneConfig {
  /** Absolute path of the file this came from. */
  readonly file: string;
  readonly name: string;
  /** null: one shard per available core. */
  readonly shards: number | null;
  readonly metrics: { readonly host: string; readonly port: number } | null;
  readonly drainTimeoutSecs: number;
  /** The most TCP connections the edge holds at once; null: derived from the descriptor limit. */
  readonly maxConnections: number | null;
  readonly rules: readonly RuleSpec[];
  readonly owners: Readonly<Record<string, OwnerSpec>>;
}
