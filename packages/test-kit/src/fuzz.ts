// Property-based fuzzing with fast-check, and the corpus it leaves behind. Each target replays
// its corpus (every input that ever failed it, committed beside the test) and then tries
// FUZZ_RUNS new inputs: a few hundred in the test suite, a million in the long run
// (`./run fuzz`). An input that fails is appended to the corpus before the test fails, so it is
// replayed on every run from then on.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import fc from 'fast-check';

/** New inputs per target: FUZZ_RUNS from the environment, else the suite's short run. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 200);

/**
 * The time limit of a fuzz test that needs more than vitest's default: 2 minutes in the suite,
 * none in the long run (FUZZ_RUNS set), which `./run fuzz` starts with no test timeout.
 */
export const FUZZ_TIMEOUT_MS = process.env.FUZZ_RUNS === undefined ? 120_000 : 0;

/** A Buffer as a corpus line. */
export const BYTES_CODEC: FuzzCodec<Buffer> = {
  encode: (value) => value.toString('hex'),
  decode: (text) => Buffer.from(text, 'hex'),
};

/** A JSON value as a corpus line. */
export const JSON_CODEC: FuzzCodec<unknown> = {
  encode: (value) => JSON.stringify(value),
  decode: (text) => JSON.parse(text),
};

export interface FuzzCodec<T> {
  encode(value: T): string;
  decode(line: string): T;
}

export interface FuzzTarget<T> {
  /** The corpus file: one encoded input per line. */
  readonly corpus: string;
  readonly arbitrary: fc.Arbitrary<T>;
  readonly codec: FuzzCodec<T>;
  /** Throws (an expect) when `input` breaks the property. */
  readonly check: (input: T) => void | Promise<void>;
  /** New inputs to try; default FUZZ_RUNS. */
  readonly runs?: number;
}

function corpusOf<T>(target: FuzzTarget<T>): T[] {
  if (!existsSync(target.corpus)) return [];
  return readFileSync(target.corpus, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => target.codec.decode(line));
}

/** Replays the corpus, then tries new inputs; records the first one that fails. */
export async function fuzz<T>(target: FuzzTarget<T>): Promise<void> {
  for (const input of corpusOf(target)) await target.check(input);
  const details = await fc.check(
    fc.asyncProperty(target.arbitrary, async (input) => {
      await target.check(input);
    }),
    { numRuns: target.runs ?? FUZZ_RUNS },
  );
  if (!details.failed) return;
  const [input] = details.counterexample ?? [];
  if (input !== undefined) {
    mkdirSync(dirname(target.corpus), { recursive: true });
    appendFileSync(target.corpus, `${target.codec.encode(input)}\n`);
  }
  throw new Error(`${fc.defaultReportMessage(details)}\n(the input is now in ${target.corpus})`);
}
