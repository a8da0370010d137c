// A contender is one way of getting bytes from a client port to a target port: nothing
// (direct), the kernel (iptables REDIRECT), or a user-space relay. Each run starts it afresh
// and stops it afterwards, so no run inherits another's heap, caches or connections.

/** Where the relaying happens: nothing in between, the kernel, or a process we can measure. */
export type RelayKind = 'none' | 'kernel' | 'user-space';

export interface StartOptions {
  /**
   * Relay UDP on the same port as well as TCP (iperf3's UDP tests keep their control
   * connection on TCP). Only asked of contenders without `udpNotApplicable`.
   */
  readonly udp?: boolean;
  /**
   * A bandwidth cap on the rule the relay serves (the qos-cap scenario). Only asked of
   * contenders with `capsBandwidth`.
   */
  readonly bandwidthCap?: BandwidthCap;
}

/** A bandwidth cap as sluice's limits express it (`limits = { bandwidth = "100Mbit" }`). */
export interface BandwidthCap {
  /** Bits per second, both directions (`bandwidth`, not `bandwidth_in` / `bandwidth_out`). */
  readonly bitsPerSecond: number;
  /**
   * `rule`: the rule's own `limits`. `owner`: the rule has an owner whose `[owners.NAME] limits`
   * hold the cap (shared by every connection of every rule of that owner, on every shard) and
   * the rule has no cap of its own.
   */
  readonly scope: 'rule' | 'owner';
}

export interface RunningContender {
  /** The relay's process (its memory is measured with its descendants); null for none/kernel. */
  readonly pid: number | null;
  /** The port clients connect to: the listen port, or the target itself for `direct`. */
  readonly connectPort: number;
  /** Stops the relay and undoes what start did; safe to call twice. */
  stop(): Promise<void>;
}

export interface Contender {
  /** Stable id used by `--contenders` and in the JSON (`sluice-js-N`). */
  readonly id: string;
  /** What the tables show (`sluice-js-N (2 shards)`). */
  readonly label: string;
  readonly relay: RelayKind;
  /** One line on how it is set up, for the report. */
  readonly description: string;
  /** Set when the idle-memory scenario does not apply to it, saying why. */
  readonly idleMemoryNote?: string;
  /** Set when it does not relay UDP (the udp scenario marks it not applicable), saying why. */
  readonly udpNotApplicable?: string;
  /** Set when start honours `StartOptions.bandwidthCap` (sluice's edge); qos-cap runs only these. */
  readonly capsBandwidth?: boolean;
  /** null when it can run on this host; otherwise why it is skipped, with the fix if any. */
  unavailableReason(): Promise<string | null>;
  /** Starts a fresh relay from 127.0.0.1:listenPort to 127.0.0.1:targetPort; resolves once it serves. */
  start(listenPort: number, targetPort: number, options?: StartOptions): Promise<RunningContender>;
}
