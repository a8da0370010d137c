// pino: JSON lines for machines, or readable lines when a person watches the terminal.

import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

export function createLogger(): Logger {
  const level = process.env.SLUICE_LOG_LEVEL ?? 'info';
  const pretty = process.stdout.isTTY && process.env.SLUICE_LOG_FORMAT !== 'json';
  // Logs go to stderr: stdout carries what commands print for people and scripts (the admin
  // token on first start), and the two must not interleave in a pipe. Synchronous writes: the
  // server logs control events, not traffic, and every line must be out before an exit.
  const stream = pretty
    ? pinoPretty({ colorize: true, sync: true, destination: 2, ignore: 'pid,hostname' })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: { pid: process.pid } }, stream);
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
