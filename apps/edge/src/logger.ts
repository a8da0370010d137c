// pino: JSON lines for machines, or readable lines when a person watches the terminal.

import pino, { type Logger } from 'pino';

export type { Logger };

/** pino-pretty is loaded only for a terminal: a service's edge never pays for its modules. */
export async function createLogger(): Promise<Logger> {
  const level = process.env.SLUICE_LOG_LEVEL ?? 'info';
  const pretty = process.stdout.isTTY && process.env.SLUICE_LOG_FORMAT !== 'json';
  // Synchronous writes: the edge logs rule events, not traffic, and every line must be out
  // before the process exits after a drain.
  const stream = pretty
    ? (await import('pino-pretty')).default({ colorize: true, sync: true, ignore: 'pid,hostname' })
    : pino.destination({ dest: 1, sync: true });
  return pino({ level, base: { pid: process.pid } }, stream);
}
