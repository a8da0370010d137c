// The IPC messages between `./run soak` and its client process (processes/soak-client.ts), which makes
// every connection and flow of the run so that the soak process itself only samples and reports.

/** How transfers ended, by outcome; `intact` is the only good one. */
export interface TransferTally {
  intact: number;
  /** Ended cleanly (FIN) with fewer or more bytes back than were sent. */
  wrongLength: number;
  /** The right length back, but a sampled transfer's sha256 differed. */
  corrupt: number;
  /** Ended by an error (a reset, a refusal), by its code. */
  errors: Record<string, number>;
  /** Gave no end within the transfer deadline. */
  timedOut: number;
  bytes: number;
  /** Transfers whose sha256 was compared. */
  hashed: number;
}

export type SoakRequest =
  /** Opens `count` connections (at most `concurrency` opening at once), each proves itself with one echoed message, and holds them. */
  | { readonly type: 'hold'; readonly port: number; readonly count: number; readonly concurrency: number }
  /** Every held connection echoes one more message, then ends; the reply is `released`. */
  | { readonly type: 'release' }
  /** `total` transfers, `concurrency` at a time: send a payload, end, read the echo to its end, check it. */
  | {
      readonly type: 'churn';
      readonly port: number;
      readonly total: number;
      readonly concurrency: number;
      /** Every Nth transfer is large and its sha256 is compared; the rest are checked by length. */
      readonly sampleEvery: number;
    }
  /** `flows` UDP sockets each send `datagrams` numbered datagrams and count the echoes. */
  | { readonly type: 'udp'; readonly port: number; readonly flows: number; readonly datagrams: number };

export type SoakReply =
  | { readonly type: 'progress'; readonly open: number; readonly done: number }
  | { readonly type: 'held'; readonly open: number; readonly tally: TransferTally }
  | { readonly type: 'released'; readonly tally: TransferTally }
  | { readonly type: 'churned'; readonly tally: TransferTally }
  | {
      readonly type: 'udp-done';
      readonly flows: number;
      readonly sent: number;
      readonly received: number;
      /** Flows that got no echo at all. */
      readonly silentFlows: number;
    };

export function isSoakRequest(value: unknown): value is SoakRequest {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string';
}

export function isSoakReply(value: unknown): value is SoakReply {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string';
}

export function emptyTally(): TransferTally {
  return { intact: 0, wrongLength: 0, corrupt: 0, errors: {}, timedOut: 0, bytes: 0, hashed: 0 };
}

/** Transfers that did not come back intact. */
export function tallyFailures(tally: TransferTally): number {
  const errors = Object.values(tally.errors).reduce((sum, n) => sum + n, 0);
  return tally.wrongLength + tally.corrupt + errors + tally.timedOut;
}
