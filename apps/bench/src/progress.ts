// Progress for the person watching a bench run. On a terminal (stderr is a TTY): two bars from
// cli-progress, the scenarios so far and the steps of the current scenario (with what is being
// measured and an ETA), the log lines scrolling above them. Anywhere else (CI, a pipe, a
// file): the same log lines, plain, and one line as each scenario starts. Nothing here writes
// to stdout, which carries the Markdown.
//
// The scenarios announce each step through ScenarioContext.onStep; this module only draws.

import { MultiBar, type SingleBar } from 'cli-progress';
import { onCleanup } from './cleanup.ts';
import type { ScenarioStep } from './scenarios/scenario.ts';

export interface BenchProgress {
  /** Where the scenarios' log lines go. */
  readonly log: (line: string) => void;
  /** For ScenarioContext.onStep: a step is about to run. */
  readonly onStep: (step: ScenarioStep) => void;
  /** Stops drawing (call before writing the Markdown); safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  readonly stream: NodeJS.WriteStream;
  /** Put before each log line (`sluice-bench: `). */
  readonly prefix: string;
  /** How many scenarios this bench run has. */
  readonly scenarios: number;
}

/** The line for a scenario's first step: `sweep: 27 steps of about 2 s each`. */
export function scenarioLine(step: ScenarioStep): string {
  return `${step.scenario}: ${step.total} step${step.total === 1 ? '' : 's'} of about ${step.seconds} s each`;
}

function plainProgress(options: ProgressOptions): BenchProgress {
  const log = (line: string): void => void options.stream.write(`${options.prefix}${line}\n`);
  let scenario: string | null = null;
  return {
    log,
    onStep(step) {
      if (step.scenario === scenario) return;
      scenario = step.scenario;
      log(scenarioLine(step));
    },
    stop() {},
  };
}

const FORMAT =
  ' {name} |{bar}| {value}/{total} {unit} · {duration_formatted} elapsed, ETA {eta_formatted} {status}';
const OVERALL_FORMAT = ' {name} |{bar}| {value}/{total} {unit} · {duration_formatted} elapsed';
/** Bar names are padded to the longest scenario id (`small-messages`) so the bars line up. */
const NAME_WIDTH = 14;

/** Fits `text` into what is left of the terminal line after the bar (about 75 columns). */
export function fitStatus(text: string, columns: number): string {
  const room = Math.max(0, columns - 78);
  if (text === '' || room < 8) return '';
  return `· ${text.length > room ? `${text.slice(0, room - 1)}…` : text}`;
}

function terminalProgress(options: ProgressOptions): BenchProgress {
  const columns = (): number => options.stream.columns ?? 100;
  const write = (line: string): void => void options.stream.write(`${options.prefix}${line}\n`);
  // Created at the first step, so what the bench prints before measuring (tool installs, the
  // machine line, skipped contenders) is not drawn over.
  let multibar: MultiBar | null = null;
  let overall: SingleBar | null = null;
  let current: { scenario: string; bar: SingleBar; total: number } | null = null;
  let stopped = false;
  // A log line is drawn where a bar was: erase the rest of that line (ESC [ K) after the text.
  const above = (line: string): string => `${options.prefix}${line}\x1b[K\n`;

  const start = (): MultiBar => {
    const bars = new MultiBar({
      stream: options.stream,
      format: FORMAT,
      barsize: 20,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: false,
      gracefulExit: false,
      clearOnComplete: true,
      stopOnComplete: false,
      autopadding: true,
      etaBuffer: 20,
      fps: 4,
    });
    overall = bars.create(
      options.scenarios,
      0,
      { name: 'all'.padEnd(NAME_WIDTH), unit: 'scenarios' },
      { format: OVERALL_FORMAT },
    );
    return bars;
  };
  const finishCurrent = (): void => {
    if (current === null || multibar === null) return;
    current.bar.update(current.total);
    multibar.remove(current.bar);
    overall?.increment();
    current = null;
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (multibar === null) return;
    // stop() clears the bars but drops log lines not yet drawn: draw them first. (No remove()
    // here: it moves the cursor in a way stop() does not account for, leaving a bar's tail.)
    multibar.update();
    multibar.stop();
  };
  // A bench ended by Ctrl+C still leaves the terminal clean, with every line it logged.
  onCleanup(stop);

  return {
    log(line) {
      if (multibar === null || stopped) write(line);
      else multibar.log(above(line));
    },
    onStep(step) {
      if (stopped) return;
      multibar ??= start();
      if (current?.scenario !== step.scenario) {
        finishCurrent();
        multibar.log(above(scenarioLine(step)));
        const name = step.scenario.padEnd(NAME_WIDTH);
        const bar = multibar.create(step.total, 0, { name, unit: 'steps', status: '' });
        current = { scenario: step.scenario, bar, total: step.total };
      }
      if (step.total !== current.total) {
        current.total = step.total;
        current.bar.setTotal(step.total);
      }
      current.bar.update(step.index - 1, { status: fitStatus(step.label, columns()) });
    },
    stop,
  };
}

/** Bars when the stream is a terminal, plain log lines otherwise. */
export function createProgress(options: ProgressOptions): BenchProgress {
  return options.stream.isTTY === true ? terminalProgress(options) : plainProgress(options);
}
