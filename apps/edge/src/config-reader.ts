// Reads the standalone config on a thread of its own, which exits once it has answered. The
// validator (zod and the schema) costs the thread that imports it about 7.5 MiB for as long as
// the thread lives, more than a shard's own code; the edge's main thread would carry it for
// nothing between reloads. Here the main thread keeps only the validated config, and that
// memory leaves with the reader's thread.

import { Worker } from 'node:worker_threads';
import type { ConfigErrorData, StandaloneConfig } from '@sluice/config';
import { deepFreeze } from '@sluice/config/deep-freeze';
import { CONFIG_ERRORS, type ConfigError } from '@sluice/config/errors';

/** Plain JavaScript: it serves its thread the pre-stripped sources first, as a shard's does. */
const READER_ENTRY = new URL('./config-reader-thread.js', import.meta.url);

/** What the reader's thread posts: the config, or why the file was refused. */
export type ConfigReaderAnswer =
  | { readonly config: StandaloneConfig }
  | { readonly refused: ConfigErrorData };

/**
 * Reads and validates a standalone TOML config, as `loadStandaloneConfig` does, off this thread.
 * @throws ConfigError `config_unreadable`, `config_syntax` or `config_invalid`.
 */
export function readStandaloneConfig(file: string): Promise<StandaloneConfig> {
  return new Promise((resolve, reject) => {
    const reader = new Worker(READER_ENTRY, { workerData: { file }, name: 'config reader' });
    let answered = false;
    reader.once('message', (answer: ConfigReaderAnswer) => {
      answered = true;
      if ('config' in answer) {
        // The copy that crossed threads is a new, unfrozen object.
        resolve(deepFreeze(answer.config));
      } else {
        const { code, message, details } = answer.refused;
        reject(CONFIG_ERRORS.error(code, details, { message }) as ConfigError);
      }
    });
    reader.once('error', (error) => {
      if (!answered) reject(error);
    });
    reader.once('exit', (code) => {
      if (!answered)
        reject(new Error(`the config reader's thread exited with code ${code} before answering`));
    });
  });
}
