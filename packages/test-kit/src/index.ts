// What tests and the bench share. Production code never imports this package (biome's
// noRestrictedImports forbids it outside tests, fixtures and apps/bench).

export { type CommandResult, commandResult } from './command-result.ts';
export {
  type DnsQuestion,
  type DnsResponder,
  type DnsZoneEntry,
  startDnsResponder,
} from './dns-responder.ts';
export { rejectedCode, thrownCode } from './error-code.ts';
export {
  FakeControlServer,
  type FakeControlServerOptions,
  FakeSession,
  makeCertificate,
  type TestCertificate,
  tcpRule,
} from './fake-control-server.ts';
export {
  ACK_ALL_ACTIVE,
  type AckPolicy,
  enrollEdge,
  FakeEdge,
  type FakeEdgeOptions,
  type OutgoingMessage,
  type PushMessage,
} from './fake-edge.ts';
export {
  BYTES_CODEC,
  FUZZ_RUNS,
  FUZZ_TIMEOUT_MS,
  type FuzzCodec,
  type FuzzTarget,
  fuzz,
  JSON_CODEC,
} from './fuzz.ts';
export { haproxyConfig } from './haproxy-config.ts';
export { type LogLine, logMatches, parseLogLine } from './log-lines.ts';
export { type ExitStatus, killOnExit, LogProcess, type LogProcessOptions } from './log-process.ts';
export { markdownTableAfter } from './markdown-table.ts';
export { NotifySocket } from './notify-socket.ts';
export { type PgCluster, pgBinDir, startPgCluster } from './pg-cluster.ts';
export { type PollOptions, pollUntil, withTimeout } from './poll.ts';
export { freePort, freePortBlock, freePorts } from './ports.ts';
export { requireProgram } from './require-program.ts';
export { seededRandom } from './seeded-random.ts';
export { type ServeListenPorts, serveArgs } from './serve-args.ts';
export { removeDir, tempDir } from './temp-dir.ts';
export { udpBurst } from './udp-burst.ts';
export { UrgentPeer } from './urgent-peer.ts';
export { ZERO_COUNTERS } from './zero-counters.ts';
