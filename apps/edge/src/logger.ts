// pino: JSON lines for machines, or readable lines when a person watches the terminal.

import { escapeControl } from '@sluice/errors';
import pino, { type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

/**
 * Readable lines for a terminal. Fields are printed as JSON, which escapes them; the message is
 * printed as it is, so its control characters are escaped here (a peer's text may be in it).
 */
const PRETTY: PrettyOptions = {
  colorize: true,
  sync: true,
  ignore: 'pid,hostname',
  messageFormat: (log, messageKey) => escapeControl(String(log[messageKey] ?? '')),
};

export type { Logger };

/** pino-pretty is loaded only for a terminal: a service's edge never pays for its modules. */
export async function createLogger(): Promise<Logger> {
  const level = process.env.SLUICE_LOG_LEVEL ?? 'info';
  const pretty = process.stdout.isTTY && process.env.SLUICE_LOG_FORMAT !== 'json';
  // Synchronous writes: the edge logs rule events, not traffic, and every line must be out
  // before the process exits after a drain.
  const stream = pretty
    ? (await import('pino-pretty')).default({ ...PRETTY })
    : pino.destination({ dest: 1, sync: true });
  return pino({ level, base: { pid: process.pid } }, stream);
}
