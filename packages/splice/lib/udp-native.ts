// The typed contract of the native UDP flow path (src/udp-napi.cc, src/udp-relay.h): a rule's
// listening UDP socket and its flows' upstream sockets, owned by the addon on this thread's
// loop and moved in batches (recvmmsg/sendmmsg). JS admits flows, picks their targets and hears
// about them in one call per loop wake.

/** Word offsets, within a counters row, of what the UDP path adds to. */
export interface UdpCounterFields {
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Datagrams dropped: over a bandwidth cap, over what a flow may hold, or a full send queue. */
  readonly datagramsDropped: number;
  /** Datagrams refused because the owner's monthly quota is spent. */
  readonly quotaRejected: number;
  /** Datagrams the kernel dropped on the rule's sockets, their receive buffer full (udpCountDrops). */
  readonly receiveBufferDrops: number;
}

/**
 * What happened to flows since the last call: `new` (a client the listener had no flow for sent
 * a datagram; the flow holds up to 64 datagrams until udpOpen or udpEnd), `answered` (its target
 * replied for the first time; what the flow held is dropped), `error` (its upstream socket
 * failed, e.g. ECONNREFUSED from an ICMP port unreachable; the socket is closed and the flow
 * holds what it sends until udpOpen moves it to another target, or udpEnd).
 */
export type UdpFlowEvent =
  | { readonly type: 'new'; readonly flow: number; readonly address: string; readonly port: number }
  | { readonly type: 'answered'; readonly flow: number }
  | { readonly type: 'error'; readonly flow: number; readonly errno: number };

export interface NativeUdp {
  /**
   * Binds a UDP socket (SO_REUSEPORT) to host:port (IP literals only) and relays its flows.
   * Answers the listener id (> 0), or -errno when the socket could not be bound. init() must
   * have been called on this thread: counters and caps are those it was given. `qosRule`: the
   * rule's QoS entity, or -1. `receiveBuffer`: SO_RCVBUF of the listening socket and of every
   * flow's upstream socket, in bytes (1 to 2^30; SO_RCVBUFFORCE when the process may pass
   * net.core.rmem_max, else the kernel caps it there: see udpReceiveBuffer).
   */
  udpListen(
    host: string,
    port: number,
    row: number,
    fields: UdpCounterFields,
    qosRule: number,
    receiveBuffer: number,
    onEvents: (events: readonly UdpFlowEvent[]) => void,
  ): number;
  /**
   * Connects the flow to address:port (an IP literal) and sends what it holds, each datagram
   * after `proxyHeader` when given; again after an `error` to move it to another target.
   * Answers 0, or -errno (-ENOENT: the flow or listener is gone).
   */
  udpOpen(
    listener: number,
    flow: number,
    address: string,
    port: number,
    proxyHeader: Buffer | undefined,
    qosOwner: number,
  ): number;
  /** Ends a flow (refused, or cut by JS). Unknown ids are ignored. */
  udpEnd(listener: number, flow: number): void;
  /** Ends the flows with no datagram either way for idleMs, and answers their ids. */
  udpExpire(listener: number, idleMs: number): number[];
  /** Closes the socket and ends every flow, with no event. */
  udpClose(listener: number): void;
  /**
   * Adds to the row's receiveBufferDrops word what the kernel dropped on the listener's sockets
   * (SO_MEMINFO's drop count) since the last call. A flow's socket is read once more as it closes.
   */
  udpCountDrops(listener: number): void;
  /** The receive buffer the kernel granted the listening socket in bytes (half of what SO_RCVBUF reads), or -errno. */
  udpReceiveBuffer(listener: number): number;
}

export const UDP_BINDING_EXPORTS = [
  'udpListen',
  'udpOpen',
  'udpEnd',
  'udpExpire',
  'udpClose',
  'udpCountDrops',
  'udpReceiveBuffer',
] as const;
