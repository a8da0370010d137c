// The README's five-minute walkthroughs, run as a user runs them: every shell command of the
// "Five minutes with the edge" and "The control plane in five minutes" blocks, in order, from the
// repo root through `./run`, with only the documented placeholders (the admin token, the enrollment
// URI, RULE_ID) filled in from what the earlier commands printed. A command the test does not know
// fails the test, so the README cannot grow a step that nothing runs.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { pollUntil } from '@sluice/test-kit';
import { afterEach, expect, it } from 'vitest';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';

const REPO = join(import.meta.dirname, '..');
const SECTIONS = ['Five minutes with the edge', 'The control plane in five minutes'] as const;

// Every port the walkthrough binds: the README's commands, examples/standalone.toml (8080, 2222,
// metrics 9464) and the server's defaults (API 7080, metrics 7081, control 7443). They are fixed
// because a reader types them; the test checks they are free instead of failing half-way through.
const WALKTHROUGH_PORTS = [8000, 8080, 2222, 9464, 7080, 7081, 7443] as const;

const READY_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 60_000;
// Ctrl-C on the edge drains open connections; the walkthrough leaves none open, so it is quick.
const STOP_TIMEOUT_MS = 15_000;

afterEach(runCleanup);

interface ReadmeCommand {
  readonly section: string;
  /** 1-based line in README.md, for the failure messages. */
  readonly line: number;
  /** The command as written, its trailing `# comment` dropped. */
  readonly text: string;
}

/** The shell commands of a section's first ```sh block; `a; b` on one line is two commands. */
function readmeCommands(): ReadmeCommand[] {
  const lines = readFileSync(join(REPO, 'README.md'), 'utf8').split('\n');
  const commands: ReadmeCommand[] = [];
  for (const section of SECTIONS) {
    const heading = lines.indexOf(`## ${section}`);
    if (heading < 0) throw new Error(`README.md has no "## ${section}" section any more`);
    const open = lines.findIndex((line, i) => i > heading && line.startsWith('```'));
    const nextHeading = lines.findIndex((line, i) => i > heading && line.startsWith('## '));
    if (open < 0 || (nextHeading >= 0 && open > nextHeading) || lines[open] !== '```sh') {
      throw new Error(`README.md "## ${section}" no longer starts with a \`\`\`sh block`);
    }
    const close = lines.findIndex((line, i) => i > open && line === '```');
    for (let i = open + 1; i < close; i += 1) {
      const text = withoutComment(lines[i] ?? '').trim();
      if (text === '') continue;
      for (const part of text.split(/;\s+/)) commands.push({ section, line: i + 1, text: part.trim() });
    }
  }
  return commands;
}

/** Drops a `# comment` that starts after whitespace outside single quotes, as the shell does. */
function withoutComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (ch === "'") quoted = !quoted;
    else if (ch === '#' && !quoted && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i);
  }
  return line;
}

/** A `bash -c` child in its own process group, so stopping it reaches pnpm, the shell and node. */
class Shell {
  readonly command: string;
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  exited = false;
  /** Set once the whole group is seen gone, so the cleanup never signals a reused group id. */
  private gone = false;
  readonly done: Promise<void>;

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.command = command;
    this.child = spawn('bash', ['-c', command], {
      cwd: REPO,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.done = new Promise((resolve) => {
      this.child.on('close', (code) => {
        this.exitCode = code;
        this.exited = true;
        resolve();
      });
    });
    deferCleanup(() => this.kill('SIGKILL'));
  }

  describe(): string {
    const exit = this.exitCode ?? 'none yet';
    return `\`${this.command}\` (exit ${exit})\n--- stdout\n${this.stdout}--- stderr\n${this.stderr}`;
  }

  /** Waits for `pattern` in the output; fails at once if the command exits first. */
  async waitFor(pattern: RegExp, stream: 'stdout' | 'stderr', what: string): Promise<RegExpMatchArray> {
    const found = await pollUntil(() => this[stream].match(pattern) ?? (this.exited ? 'exited' : undefined), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      what: `${what} from \`${this.command}\``,
    }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : err}\n${this.describe()}`);
    });
    if (found === 'exited') throw new Error(`exited before ${what}: ${this.describe()}`);
    return found;
  }

  /** A command that runs to completion, as typed at a prompt. */
  async finish(): Promise<this> {
    await pollUntil(() => this.exited, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      intervalMs: 100,
      what: `\`${this.command}\` to exit`,
    });
    return this;
  }

  /** Ctrl-C, as a terminal sends it: SIGINT to the whole foreground group, which must then be gone. */
  async interrupt(): Promise<void> {
    this.kill('SIGINT');
    await pollUntil(() => !this.groupAlive(), {
      timeoutMs: STOP_TIMEOUT_MS,
      intervalMs: 100,
      what: `\`${this.command}\` and its children to stop on Ctrl-C`,
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.gone) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private groupAlive(): boolean {
    if (this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, 0);
      return true;
    } catch {
      this.gone = true;
      return false;
    }
  }
}

/** What one command of the walkthrough leaves for the next ones: the user's shell, in effect. */
interface Session {
  env: NodeJS.ProcessEnv;
  /** Started with `&`: they live in the user's shell across both sections. */
  readonly jobs: Shell[];
  /** Long-running commands a user leaves in a terminal and stops with Ctrl-C. */
  readonly terminals: Shell[];
  adminToken?: string;
  enrollUri?: string;
  managedListen?: string;
  ruleId?: string;
}

interface Step {
  /** The command as the README writes it; the groups are what the step checks against. */
  readonly pattern: RegExp;
  readonly run: (command: string, match: RegExpMatchArray, session: Session) => Promise<void>;
}

async function run(command: string, session: Session): Promise<Shell> {
  const shell = await new Shell(command, session.env).finish();
  expect(shell.exitCode, shell.describe()).toBe(0);
  return shell;
}

function startTerminal(command: string, session: Session): Shell {
  const shell = new Shell(command, session.env);
  session.terminals.push(shell);
  return shell;
}

/** A file the walkthrough writes into the checkout: must not be the user's own, and goes at the end. */
function claimRepoPath(relative: string): void {
  const path = join(REPO, relative);
  if (existsSync(path)) {
    throw new Error(
      `${path} already exists; the README walkthrough writes there. Move it away and run the test again.`,
    );
  }
  deferCleanup(() => rmSync(path, { recursive: true, force: true }));
}

function fillPlaceholder(command: string, placeholder: string, value: string | undefined): string {
  if (value === undefined) throw new Error(`no value yet for ${placeholder} in \`${command}\``);
  // A function, so that `$` in a value is never read as a replacement pattern.
  return command.replace(placeholder, () => value);
}

const STEPS: readonly Step[] = [
  // ## Five minutes with the edge
  {
    pattern: /^python3 -m http\.server (\d+) --bind (\S+) &$/,
    async run(command, [, port, host], session) {
      const job = new Shell(command.replace(/\s*&$/, ''), session.env);
      session.jobs.push(job);
      await pollUntil(() => !job.exited && canConnect(host ?? '', Number(port)), {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 100,
        what: `${host}:${port} to accept (${job.describe()})`,
      });
    },
  },
  {
    pattern: /^\.\/run edge --config \S+$/,
    async run(command, _match, session) {
      const edge = startTerminal(command, session);
      const [ready] = await edge.waitFor(/^.*"msg":"edge ready".*$/m, 'stdout', 'the "edge ready" line');
      expect(JSON.parse(ready)).toMatchObject({ rules: 2, failed: 0 });
    },
  },
  {
    pattern: /^curl -s \S+ \| head -3$/,
    async run(command, _match, session) {
      const { stdout } = await run(command, session);
      // python's http.server answers with its directory listing; three lines of it came back.
      expect(stdout.split('\n').filter((line) => line !== '')).toHaveLength(3);
      expect(stdout).toMatch(/^<!DOCTYPE HTML>/);
    },
  },
  {
    pattern: /^curl -s \S+\/metrics \| grep sluice_rule_bytes$/,
    async run(command, _match, session) {
      const { stdout } = await run(command, session);
      // The previous curl went through rule "web", so its counters have moved.
      expect(stdout).toMatch(/^sluice_rule_bytes_in_total\{[^}]*rule="web"[^}]*\} [1-9]\d*$/m);
      expect(stdout).toMatch(/^sluice_rule_bytes_out_total\{[^}]*rule="web"[^}]*\} [1-9]\d*$/m);
    },
  },
  {
    pattern: /^curl -s '\S+\/metrics\?format=json'$/,
    async run(command, _match, session) {
      const { stdout } = await run(command, session);
      const body = JSON.parse(stdout) as { rules: { name: string; state: string; bytes_out: number }[] };
      expect(body.rules.map(({ name, state }) => ({ name, state }))).toEqual([
        { name: 'web', state: 'active' },
        { name: 'ssh-pool', state: 'active' },
      ]);
      expect(body.rules[0]?.bytes_out).toBeGreaterThan(0);
    },
  },
  // ## The control plane in five minutes
  {
    pattern: /^\.\/run server serve --data-dir (\S+)$/,
    async run(command, [, dataDir], session) {
      claimRepoPath(dataDir ?? '');
      const server = startTerminal(command, session);
      const [, token] = await server.waitFor(/^admin token: (\S+)$/m, 'stdout', 'the admin token');
      await server.waitFor(/"msg":"sluice-server ready"/, 'stderr', 'the "sluice-server ready" line');
      session.adminToken = token;
    },
  },
  {
    pattern: /^export SLUICE_SERVER=\S+ SLUICE_TOKEN=\.\.\.$/,
    async run(command, _match, session) {
      const filled = fillPlaceholder(command, 'SLUICE_TOKEN=...', `SLUICE_TOKEN=${session.adminToken}`);
      // The user's shell keeps what `export` set: run it, then read the environment it left.
      const { stdout } = await run(`${filled}\nenv -0`, session);
      session.env = Object.fromEntries(
        stdout
          .split('\0')
          .filter((entry) => entry.includes('='))
          .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
      );
      expect(session.env.SLUICE_TOKEN).toBe(session.adminToken);
    },
  },
  {
    pattern: /^\.\/run ctl enroll (\S+)$/,
    async run(command, _match, session) {
      const { stdout } = await run(command, session);
      const uri = stdout.match(/^uri: (sluice:\/\/\S+)$/m);
      expect(uri, `no "uri: sluice://..." line in:\n${stdout}`).not.toBeNull();
      session.enrollUri = uri?.[1];
    },
  },
  {
    pattern: /^\.\/run edge enroll 'sluice:\/\/HOST:7443\/enroll\?pin=\.\.\.&code=\.\.\.' --bundle (\S+)$/,
    async run(command, [, bundle], session) {
      claimRepoPath(bundle ?? '');
      // The edge keeps its counters beside the bundle (edge-state-file.ts).
      claimRepoPath(`${bundle}.state`);
      claimRepoPath(`${bundle}.state.tmp`);
      const placeholder = "'sluice://HOST:7443/enroll?pin=...&code=...'";
      const enrollUri = session.enrollUri === undefined ? undefined : `'${session.enrollUri}'`;
      await run(fillPlaceholder(command, placeholder, enrollUri), session);
      expect(existsSync(join(REPO, bundle ?? ''))).toBe(true);
    },
  },
  {
    pattern: /^\.\/run edge --bundle \S+$/,
    async run(command, _match, session) {
      const edge = startTerminal(command, session);
      await edge.waitFor(/"msg":"control connected"/, 'stdout', 'the "control connected" line');
    },
  },
  {
    pattern: /^\.\/run ctl push-rule (\S+) (\S+) \S+ --limit bandwidth=\S+$/,
    async run(command, [, edgeName, listen], session) {
      const { stdout } = await run(command, session);
      expect(stdout).toContain(`is active on edge ${edgeName}`);
      session.managedListen = listen;
    },
  },
  {
    pattern: /^\.\/run ctl list-rules$/,
    async run(command, _match, session) {
      const { stdout } = await run(command, session);
      // Columns are separated by two or more spaces; `tcp 127.0.0.1:8080` is one column.
      const row = stdout
        .split('\n')
        .map((line) => line.trim().split(/\s{2,}/))
        .find((columns) => columns.includes('active') && columns.includes(`tcp ${session.managedListen}`));
      const ruleId = row?.[0];
      expect(ruleId, `no active rule on ${session.managedListen} in:\n${stdout}`).toMatch(/^r_\w+$/);
      session.ruleId = ruleId;
    },
  },
  {
    pattern: /^\.\/run ctl rule-stats RULE_ID --watch$/,
    async run(command, _match, session) {
      const watch = startTerminal(fillPlaceholder(command, 'RULE_ID', session.ruleId), session);
      await watch.waitFor(/ total \S+ \S+ in /, 'stdout', 'the first stats line');
      // Traffic through the pushed rule must show up in the next stats update.
      const response = await fetch(`http://${session.managedListen}/`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('Directory listing');
      await watch.waitFor(/ total [1-9][\d.]* \S+ in /, 'stdout', 'a stats line with the bytes just sent');
    },
  },
];

async function canConnect(host: string, port: number): Promise<boolean> {
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

function describeCommand(command: ReadmeCommand): string {
  return `README.md:${command.line} (${command.section}) \`${command.text}\``;
}

/** The README's commands must be the steps, one for one and in order, before anything runs. */
function checkEveryCommandIsKnown(commands: readonly ReadmeCommand[]): void {
  for (let i = 0; i < Math.max(commands.length, STEPS.length); i += 1) {
    const command = commands[i];
    const step = STEPS[i];
    if (command === undefined) {
      throw new Error(`README.md lost a command that test/readme.test.ts runs: ${step?.pattern}`);
    }
    if (step === undefined || !step.pattern.test(command.text)) {
      const expected = step?.pattern.toString() ?? 'no more commands';
      throw new Error(
        `${describeCommand(command)} is not what test/readme.test.ts expects there (${expected}); ` +
          'teach the test the new command so that it stays covered',
      );
    }
  }
}

it('runs every command of the README five-minute sections, as written, through ./run', async () => {
  const commands = readmeCommands();
  checkEveryCommandIsKnown(commands);

  for (const port of WALKTHROUGH_PORTS) {
    expect(await portIsFree(port), `port ${port} is in use; the README walkthrough binds it`).toBe(true);
  }

  const env: NodeJS.ProcessEnv = { ...process.env };
  // The walkthrough sets these itself; values from the caller's shell would hide a broken export.
  delete env.SLUICE_SERVER;
  delete env.SLUICE_TOKEN;
  const session: Session = { env, jobs: [], terminals: [] };
  let section = commands[0]?.section;
  for (const [i, command] of commands.entries()) {
    if (command.section !== section) {
      // A user stops the standalone edge before the control plane: the managed rule wants :8080.
      for (const terminal of session.terminals.splice(0)) await terminal.interrupt();
      section = command.section;
    }
    const step = STEPS[i];
    const match = step?.pattern.exec(command.text);
    if (step === undefined || match === null || match === undefined) throw new Error('unreachable');
    try {
      await step.run(command.text, match, session);
    } catch (err) {
      throw new Error(`${describeCommand(command)} failed: ${err instanceof Error ? err.message : err}`, {
        cause: err,
      });
    }
  }
  // Ctrl-C in every terminal, newest first, then the shell's background job.
  for (const terminal of session.terminals.reverse()) await terminal.interrupt();
  for (const job of session.jobs) await job.interrupt();
}, 240_000);
