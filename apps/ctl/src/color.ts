// Colour for a person at a terminal: rule and edge states in tables, and the code of an error
// line. Only when the stream is a terminal, and never when NO_COLOR is set to anything but ""
// (no-color.org) or TERM is dumb, so pipes, scripts and `--format json` always get plain text.

import { styleText } from 'node:util';

/** Whether a stream that is (or is not) a terminal gets colour under this environment. */
export function colorWanted(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY && env.TERM !== 'dumb';
}

// Green: serving; yellow: waiting on something; red: needs the operator.
const STATE_COLORS: Readonly<Record<string, 'green' | 'yellow' | 'red'>> = {
  active: 'green',
  connected: 'green',
  pending: 'yellow',
  offline: 'yellow',
  failed: 'red',
  revoked: 'red',
};

/** `text` in the colour of `state` when `color` is on; states with no colour stay plain. */
export function paintState(state: string, text: string, color: boolean): string {
  const style = STATE_COLORS[state];
  return color && style !== undefined ? styleText(style, text, { validateStream: false }) : text;
}

/** An error's code in red when `color` is on. */
export function paintError(code: string, color: boolean): string {
  return color ? styleText(['bold', 'red'], code, { validateStream: false }) : code;
}
