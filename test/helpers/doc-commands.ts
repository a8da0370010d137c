// The shell commands a document tells a user to run, run as written: read from its ```sh blocks,
// matched one for one and in order against the test's table of steps (a command the table does
// not know fails the test before anything runs, so a doc cannot grow a step that nothing runs),
// then each run from the repo root through a Shell (helpers/shell.ts), as a user's shell would.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { deferCleanup } from './cleanup.ts';
import { REPO_ROOT } from './edge-process.ts';
import { Shell } from './shell.ts';

export interface DocCommand {
  /** The document, relative to the repo root (`README.md`, `docs/operations.md`). */
  readonly doc: string;
  /** The heading the command stands under. */
  readonly section: string;
  /** 1-based line in the document, for the failure messages. */
  readonly line: number;
  /** The command as written, its trailing `# comment` dropped. */
  readonly text: string;
}

/** What one command of a walkthrough leaves for the next ones: the user's shell, in effect. */
export interface DocSession {
  env: NodeJS.ProcessEnv;
  /** Long-running commands a user leaves in a terminal and stops with Ctrl-C. */
  readonly terminals: Shell[];
}

export interface DocStep<S extends DocSession> {
  /** The command as the document writes it; the groups are what the step checks against. */
  readonly pattern: RegExp;
  readonly run: (command: string, match: RegExpMatchArray, session: S) => Promise<void>;
}

function docLines(doc: string): string[] {
  return readFileSync(join(REPO_ROOT, doc), 'utf8').split('\n');
}

/** The commands of the block opening at `open` (0-based); `a; b` on one line is two commands. */
function blockCommands(doc: string, section: string, lines: readonly string[], open: number): DocCommand[] {
  const close = lines.findIndex((line, i) => i > open && line === '```');
  if (close < 0) throw new Error(`${doc}:${open + 1}: the \`\`\`sh block is never closed`);
  const commands: DocCommand[] = [];
  for (let i = open + 1; i < close; i += 1) {
    const text = withoutComment(lines[i] ?? '').trim();
    if (text === '') continue;
    for (const part of text.split(/;\s+/)) commands.push({ doc, section, line: i + 1, text: part.trim() });
  }
  return commands;
}

/** The commands of the first block of each `## SECTION`, which must be a ```sh block. */
export function sectionCommands(doc: string, sections: readonly string[]): DocCommand[] {
  const lines = docLines(doc);
  return sections.flatMap((section) => {
    const heading = lines.indexOf(`## ${section}`);
    if (heading < 0) throw new Error(`${doc} has no "## ${section}" section any more`);
    const open = lines.findIndex((line, i) => i > heading && line.startsWith('```'));
    const nextHeading = lines.findIndex((line, i) => i > heading && line.startsWith('## '));
    if (open < 0 || (nextHeading >= 0 && open > nextHeading) || lines[open] !== '```sh') {
      throw new Error(`${doc} "## ${section}" no longer starts with a \`\`\`sh block`);
    }
    return blockCommands(doc, section, lines, open);
  });
}

/** The commands of every ```sh block of the document, in order. */
export function everyShCommand(doc: string): DocCommand[] {
  const lines = docLines(doc);
  const commands: DocCommand[] = [];
  let section = '(before any heading)';
  let fence: string | null = null;
  for (const [i, line] of lines.entries()) {
    if (fence === null && line === '```sh') commands.push(...blockCommands(doc, section, lines, i));
    if (line.startsWith('```')) fence = fence === null ? line : null;
    else if (fence === null && /^#+ /.test(line)) section = line.replace(/^#+ /, '');
  }
  return commands;
}

/** Drops a `# comment` that starts after whitespace outside single quotes, as the shell does. */
export function withoutComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (ch === "'") quoted = !quoted;
    else if (ch === '#' && !quoted && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i);
  }
  return line;
}

function describeCommand(command: DocCommand): string {
  return `${command.doc}:${command.line} (${command.section}) \`${command.text}\``;
}

/** The document's commands must be the steps, one for one and in order, before anything runs. */
export function checkEveryCommandIsKnown<S extends DocSession>(
  commands: readonly DocCommand[],
  steps: readonly DocStep<S>[],
  testFile: string,
): void {
  for (let i = 0; i < Math.max(commands.length, steps.length); i += 1) {
    const command = commands[i];
    const step = steps[i];
    if (command === undefined) {
      throw new Error(
        `${commands[0]?.doc ?? 'the document'} lost a command that ${testFile} runs: ${step?.pattern}`,
      );
    }
    if (step === undefined || !step.pattern.test(command.text)) {
      const expected = step?.pattern.toString() ?? 'no more commands';
      throw new Error(
        `${describeCommand(command)} is not what ${testFile} expects there (${expected}); ` +
          'teach the test the new command so that it stays covered',
      );
    }
  }
}

export interface RunDocOptions {
  /** What is run instead of the text as written (the one substitution a test documents). */
  readonly rewrite?: (text: string) => string;
  /** Called before the first command of each section after the first. */
  readonly onNewSection?: (section: string) => Promise<void>;
}

/** Runs each command through its step (checked by checkEveryCommandIsKnown first); answers how many ran. */
export async function runDocCommands<S extends DocSession>(
  commands: readonly DocCommand[],
  steps: readonly DocStep<S>[],
  session: S,
  options: RunDocOptions = {},
): Promise<number> {
  let section = commands[0]?.section;
  for (const [i, command] of commands.entries()) {
    if (command.section !== section) {
      section = command.section;
      await options.onNewSection?.(section);
    }
    const text = options.rewrite?.(command.text) ?? command.text;
    const step = steps[i];
    const match = step?.pattern.exec(text);
    if (step === undefined || match === null || match === undefined) {
      throw new Error(`${describeCommand(command)}, run as \`${text}\`, no longer matches ${step?.pattern}`);
    }
    try {
      await step.run(text, match, session);
    } catch (err) {
      throw new Error(`${describeCommand(command)} failed: ${err instanceof Error ? err.message : err}`, {
        cause: err,
      });
    }
  }
  return commands.length;
}

/** Runs a command to completion; it must exit 0. */
export async function runCommand(command: string, session: DocSession): Promise<Shell> {
  const shell = await new Shell(command, session.env).finish();
  expect(shell.exitCode, shell.describe()).toBe(0);
  return shell;
}

/** Starts a long-running command, as in a terminal of its own. */
export function startTerminal(command: string, session: DocSession): Shell {
  const shell = new Shell(command, session.env);
  session.terminals.push(shell);
  return shell;
}

/** Ctrl-C in every terminal, newest first. */
export async function interruptTerminals(session: DocSession): Promise<void> {
  for (const terminal of session.terminals.splice(0).reverse()) await terminal.interrupt();
}

/** A path the walkthrough writes into the checkout: must not be the user's own, and goes at the end. */
export function claimRepoPath(relative: string): string {
  const path = join(REPO_ROOT, relative);
  if (existsSync(path)) {
    throw new Error(
      `${path} already exists; a doc walkthrough writes there. Move it away and run the test again.`,
    );
  }
  deferCleanup(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

export function fillPlaceholder(command: string, placeholder: string, value: string | undefined): string {
  if (value === undefined) throw new Error(`no value yet for ${placeholder} in \`${command}\``);
  // A function, so that `$` in a value is never read as a replacement pattern.
  return command.replace(placeholder, () => value);
}

export async function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    // 0.0.0.0 because the server's control port binds there; a loopback holder collides with it too.
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A walkthrough's ports are fixed because a reader types them: the test checks they are free
 * instead of failing half-way through.
 */
export async function expectPortsFree(ports: readonly number[], doc: string): Promise<void> {
  for (const port of ports) {
    expect(await portIsFree(port), `port ${port} is in use; the ${doc} walkthrough binds it`).toBe(true);
  }
}
