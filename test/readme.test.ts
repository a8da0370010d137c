// The README's five-minute walkthroughs, run as a user runs them: every shell command of the
// "Five minutes with the edge" and "The control plane in five minutes" blocks, in order, from the
// repo root through `./run`, with only the documented placeholders (the admin token, the enrollment
// URI, RULE_ID) filled in from what the earlier commands printed. A command the test does not know
// fails the test, so the README cannot grow a step that nothing runs.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@sluice/test-kit';
import { afterEach, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import {
  canConnect,
  checkEveryCommandIsKnown,
  claimRepoPath,
  type DocSession,
  type DocStep,
  expectPortsFree,
  fillPlaceholder,
  interruptTerminals,
  runCommand as run,
  runDocCommands,
  sectionCommands,
  startTerminal,
} from './helpers/doc-commands.ts';
import { REPO_ROOT } from './helpers/edge-process.ts';
import { Shell } from './helpers/shell.ts';

const SECTIONS = ['Five minutes with the edge', 'The control plane in five minutes'] as const;

// Every port the walkthrough binds: the README's commands, examples/standalone.toml (8080, 2222,
// metrics 9464) and the server's defaults (API 7080, metrics 7081, control 7443).
const WALKTHROUGH_PORTS = [8000, 8080, 2222, 9464, 7080, 7081, 7443] as const;

const READY_TIMEOUT_MS = 30_000;

afterEach(runCleanup);

/** The README's walkthrough in the user's shell. */
interface Session extends DocSession {
  /** Started with `&`: they live in the user's shell across both sections. */
  readonly jobs: Shell[];
  adminToken?: string;
  enrollUri?: string;
  managedListen?: string;
  ruleId?: string;
}

type Step = DocStep<Session>;

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
      // The edge keeps its counters and its applied rules beside the bundle (edge-state-file.ts,
      // applied-rules-file.ts).
      for (const suffix of ['.state', '.state.tmp', '.rules', '.rules.tmp', '.rules.journal']) {
        claimRepoPath(`${bundle}${suffix}`);
      }
      const placeholder = "'sluice://HOST:7443/enroll?pin=...&code=...'";
      const enrollUri = session.enrollUri === undefined ? undefined : `'${session.enrollUri}'`;
      await run(fillPlaceholder(command, placeholder, enrollUri), session);
      expect(existsSync(join(REPO_ROOT, bundle ?? ''))).toBe(true);
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

it('runs every command of the README five-minute sections, as written, through ./run', async () => {
  const commands = sectionCommands('README.md', SECTIONS);
  checkEveryCommandIsKnown(commands, STEPS, 'test/readme.test.ts');
  await expectPortsFree(WALKTHROUGH_PORTS, 'README');

  const env: NodeJS.ProcessEnv = { ...process.env };
  // The walkthrough sets these itself; values from the caller's shell would hide a broken export.
  delete env.SLUICE_SERVER;
  delete env.SLUICE_TOKEN;
  const session: Session = { env, jobs: [], terminals: [] };
  await runDocCommands(commands, STEPS, session, {
    // A user stops the standalone edge before the control plane: the managed rule wants :8080.
    onNewSection: () => interruptTerminals(session),
  });
  // Ctrl-C in every terminal, newest first, then the shell's background job.
  await interruptTerminals(session);
  for (const job of session.jobs) await job.interrupt();
}, 240_000);
