// What every command runs with: the API client, the output format and where output goes.

import type { ApiClient } from '../api-client.ts';
import type { OutputFormat } from '../format.ts';

export interface CommandContext {
  readonly client: ApiClient;
  readonly format: OutputFormat;
  /** Writes to stdout; a command's output ends with a newline. */
  readonly out: (text: string) => void;
  /** The clock for "5m ago" columns. */
  readonly now: () => number;
  /** Whether stdout is a terminal (a person reading, not a pipe): sparklines are shown then. */
  readonly tty: boolean;
  /** Whether stdout takes colour (a terminal, and no NO_COLOR): states are coloured then. */
  readonly color: boolean;
  /** All of standard input, for commands that read passwords there. */
  readonly stdin: () => Promise<string>;
}
