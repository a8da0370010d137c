// The config reader's thread (config-reader.ts): validates one file, posts the config or the
// refusal, and ends.

import { parentPort, workerData } from 'node:worker_threads';
import { CONFIG_ERRORS, type ConfigErrorData, loadStandaloneConfig } from '@sluice/config';
import type { ConfigReaderAnswer } from './config-reader.ts';

async function answer(file: string): Promise<ConfigReaderAnswer> {
  try {
    return { config: await loadStandaloneConfig(file) };
  } catch (error) {
    // Anything else is a fault, not a refusal: it reaches the caller as the thread's error.
    if (!CONFIG_ERRORS.is(error)) throw error;
    return { refused: error.toData() as ConfigErrorData };
  }
}

parentPort?.postMessage(await answer((workerData as { file: string }).file));
