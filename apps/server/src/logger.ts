// pino: JSON lines for machines, or readable lines when a person watches the terminal.

import { escapeControl } from '@sluice/errors';
import pino, { type Logger } from 'pino';
import pinoPretty, { type PrettyOptions } from 'pino-pretty';

/**
 * Readable lines for a terminal. Fields are printed as JSON, which escapes them; the message is
 * printed as it is, so its control characters are escaped here (a peer's text may be in it).
 */
export const PRETTY: PrettyOptions = {
  colorize: true,
  sync: true,
  ignore: 'pid,hostname',
  messageFormat: (log, messageKey) => escapeControl(String(log[messageKey] ?? '')),
};

export type { Logger };

export function createLogger(): Logger {
  const level = process.env.SLUICE_LOG_LEVEL ?? 'info';
  const pretty = process.stdout.isTTY && process.env.SLUICE_LOG_FORMAT !== 'json';
  // Logs go to stderr: stdout carries what commands print for people and scripts (the admin
  // token on first start), and the two must not interleave in a pipe. Synchronous writes: the
  // server logs control events, not traffic, and every line must be out before an exit.
  const stream = pretty
    ? pinoPretty({ ...PRETTY, destination: 2 })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, base: { pid: process.pid } }, stream);
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
