// @sluice/iperf3: iperf3 servers this process starts and stops, client runs parsed from -J into
// typed results, and errors with codes from one table.

export { findIperf3, iperf3Version, requireIperf3 } from './binary.ts';
export type { ChildExit as Iperf3Exit } from './child.ts';
export { type Iperf3RunOptions, runIperf3, runIperf3Tcp, runIperf3Udp } from './client.ts';
export {
  IPERF3_ERRORS,
  IPERF3_INSTALL_HINT,
  type Iperf3Error,
  type Iperf3ErrorCode,
  type Iperf3ErrorData,
} from './errors.ts';
export {
  formatBitrate,
  type Iperf3Bitrate,
  type Iperf3ClientOptions,
  iperf3ClientArgs,
  parseBitrate,
} from './options.ts';
export {
  type Iperf3Result,
  type Iperf3TcpResult,
  type Iperf3UdpResult,
  parseIperf3Result,
  parseIperf3TcpResult,
  parseIperf3UdpResult,
} from './result.ts';
export { Iperf3Server, type Iperf3ServerOptions, startIperf3Server } from './server.ts';
