// sluicectl's commands and flags (docs/server-api.md, "sluicectl"; docs/ctl.md). runCli parses
// one command line, runs it and answers the exit code; on failure it has written `CODE: message`
// as the first line on stderr. main.ts wires it to the process.

import { Command, CommanderError } from 'commander';
import { ApiClient } from './api-client.ts';
import { COMPLETION_SHELLS, completionScript } from './commands/completion.ts';
import type { CommandContext } from './commands/context.ts';
import { edges } from './commands/edges.ts';
import { enroll } from './commands/enroll.ts';
import { grantCommands } from './commands/grant.ts';
import { listRules } from './commands/list-rules.ts';
import { ownerLimitCommands } from './commands/owner-limits.ts';
import { pushRule } from './commands/push-rule.ts';
import { quotaCommands } from './commands/quota.ts';
import { removeRule } from './commands/remove-rule.ts';
import { revoke } from './commands/revoke.ts';
import { ruleStats, watchRuleStats } from './commands/rule-stats.ts';
import { tokenCreate, tokenList, tokenRevoke } from './commands/tokens.ts';
import { trafficCommand } from './commands/traffic.ts';
import {
  userAdd,
  userList,
  userPasswd,
  userRemove,
  userResetPassword,
  userSetDisabled,
  userShow,
} from './commands/users.ts';
import { ctlError, errorLine, isReported, UNKNOWN_ERROR_EXIT_CODE } from './errors.ts';
import { OUTPUT_FORMATS, type OutputFormat } from './format.ts';
import { HELP_EXAMPLES } from './help-examples.ts';
import { buildRuleRequest } from './rule-args.ts';
import { DEFAULT_TIMEOUT_SECS, type GlobalFlags, resolveServerSettings } from './server-settings.ts';
import { CTL_VERSION } from './version.ts';

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** A signal that aborts on Ctrl-C, asked for only by commands that run until then. */
  readonly interrupt: () => AbortSignal;
  readonly now?: () => number;
  /** Whether stdout is a terminal; false when left out. */
  readonly tty?: boolean;
  /** Whether stdout and stderr take colour (color.ts's colorWanted); no colour when left out. */
  readonly color?: { readonly stdout: boolean; readonly stderr: boolean };
  /** All of standard input (passwords are read there, never from arguments). */
  readonly stdin?: () => Promise<string>;
}

interface ProgramFlags extends GlobalFlags {
  readonly format: string;
}

/** The code for an exception that is neither a reported error nor commander's: a bug in sluicectl. */
export const UNEXPECTED = 'unexpected';

/** For repeatable flags; no default, so help does not show one. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseFormat(text: string): OutputFormat {
  const format = OUTPUT_FORMATS.find((candidate) => candidate === text);
  if (format === undefined) {
    throw ctlError(
      'bad_usage',
      `--format ${JSON.stringify(text)} is not one of ${OUTPUT_FORMATS.join(', ')}`,
    );
  }
  return format;
}

function context(command: Command, io: CliIo): CommandContext {
  const flags = command.optsWithGlobals<ProgramFlags>();
  const format = parseFormat(flags.format);
  const settings = resolveServerSettings(flags, io.env);
  return {
    client: new ApiClient(settings),
    format,
    out: io.stdout,
    now: io.now ?? Date.now,
    tty: io.tty ?? false,
    color: io.color?.stdout ?? false,
    stdin: io.stdin ?? (async () => ''),
  };
}

/** Each command's examples (help-examples.ts) at the end of its --help. */
function addExamples(command: Command, path = ''): void {
  for (const sub of command.commands) {
    const subPath = path === '' ? sub.name() : `${path} ${sub.name()}`;
    const examples = HELP_EXAMPLES[subPath];
    if (examples !== undefined) {
      sub.addHelpText('after', ['', 'Examples:', ...examples.map((example) => `  ${example}`)].join('\n'));
    }
    addExamples(sub, subPath);
  }
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('sluicectl')
    .description('sluicectl: enroll edges and manage their rules through sluice-server')
    .usage('[options] <command>')
    .option('--server <url>', 'the sluice-server API, e.g. http://127.0.0.1:7080 (env SLUICE_SERVER)')
    .option('--token <token>', 'API token (env SLUICE_TOKEN)')
    .option('--format <format>', `output: ${OUTPUT_FORMATS.join(' or ')}`, 'table')
    .option('--timeout <secs>', `give up on a request after this long (default ${DEFAULT_TIMEOUT_SECS})`)
    .version(CTL_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });

  program
    .command('enroll')
    .description(
      'make a one-time enrollment code for an edge (new or existing); prints the command to run on it',
    )
    .argument('<edge>', 'edge name')
    .option('--ttl <duration>', 'how long the code is valid: 30s, 10m, 2h (1 min .. 7 days; default 10m)')
    .action(async (edge: string, options: { ttl?: string }, command: Command) => {
      await enroll(context(command, io), edge, options.ttl);
    });

  program
    .command('edges')
    .description('list enrolled edges')
    .action(async (_options: unknown, command: Command) => {
      await edges(context(command, io));
    });

  program
    .command('push-rule')
    .description('push a forwarding rule to an edge and wait for it to be active')
    .argument('<edge>', 'edge name or id')
    .argument('<listen>', 'host:port or host:lo-hi to listen on, e.g. 0.0.0.0:8080')
    .argument('[targets...]', 'host:port targets (may be left out when --sni routes are given)')
    .option('--name <name>', 'rule name (default: protocol and listen ports, e.g. tcp-8080)')
    .option('--protocol <protocol>', 'tcp or udp (default tcp)')
    .option('--balance <balance>', 'failover or round-robin (default failover)')
    .option('--sni <name=target>', 'route TLS clients by SNI name to a target (repeatable)', collect)
    .option('--proxy-protocol <version>', 'send a PROXY protocol header to targets: v1 or v2')
    .option(
      '--limit <key=value>',
      'a cap, e.g. bandwidth=100Mbit or max_connections=100 (repeatable; keys as in [rules.limits])',
      collect,
    )
    .option('--owner <user>', 'owner of the rule (admin tokens only; default: the token user)')
    .action(
      async (
        edge: string,
        listen: string,
        targets: string[],
        options: {
          name?: string;
          protocol?: string;
          balance?: string;
          sni?: string[];
          proxyProtocol?: string;
          limit?: string[];
          owner?: string;
        },
        command: Command,
      ) => {
        const request = buildRuleRequest({ edge, listen, targets, ...options });
        await pushRule(context(command, io), request);
      },
    );

  program
    .command('list-rules')
    .description('list rules with their state')
    .option('--edge <edge>', 'only the rules of this edge (name or id)')
    .action(async (options: { edge?: string }, command: Command) => {
      await listRules(context(command, io), options.edge);
    });

  program
    .command('rule-stats')
    .description("show a rule's traffic totals and rates")
    .argument('<id>', 'rule id')
    .option('--watch', 'print a line per stats update until Ctrl-C')
    .action(async (id: string, options: { watch?: boolean }, command: Command) => {
      const ctx = context(command, io);
      if (options.watch) await watchRuleStats(ctx, id, io.interrupt());
      else await ruleStats(ctx, id);
    });

  program
    .command('remove-rule')
    .description('remove a rule; the edge drains its connections')
    .argument('<id>', 'rule id')
    .action(async (id: string, _options: unknown, command: Command) => {
      await removeRule(context(command, io), id);
    });

  program
    .command('revoke')
    .description('revoke an edge: its session is closed and it can no longer connect')
    .argument('<edge>', 'edge name or id')
    .action(async (edge: string, _options: unknown, command: Command) => {
      await revoke(context(command, io), edge);
    });

  const user = program.command('user').description('users and their passwords (admin, but passwd)');
  user
    .command('add')
    .description('make a user; with --password-stdin, its password is the first line of stdin')
    .argument('<name>', 'user name (the owner of their rules)')
    .option('--role <role>', 'user or admin (default user)')
    .option('--display-name <name>', 'the name shown in the console (default: the user name)')
    .option('--password-stdin', 'read a password (at least 12 characters) from stdin')
    .action(
      async (
        name: string,
        options: { role?: string; displayName?: string; passwordStdin?: boolean },
        command: Command,
      ) => {
        await userAdd(context(command, io), name, options);
      },
    );
  user
    .command('list')
    .description('list users')
    .action(async (_options: unknown, command: Command) => {
      await userList(context(command, io));
    });
  user
    .command('show')
    .description('show a user (`me`: yourself)')
    .argument('<user>', 'user name, id, or me')
    .action(async (name: string, _options: unknown, command: Command) => {
      await userShow(context(command, io), name);
    });
  user
    .command('disable')
    .description('disable a user: their tokens, sessions and logins are refused until enabled')
    .argument('<user>', 'user name or id')
    .action(async (name: string, _options: unknown, command: Command) => {
      await userSetDisabled(context(command, io), name, true);
    });
  user
    .command('enable')
    .description('enable a disabled user')
    .argument('<user>', 'user name or id')
    .action(async (name: string, _options: unknown, command: Command) => {
      await userSetDisabled(context(command, io), name, false);
    });
  user
    .command('remove')
    .description('delete a user with their rules (drained from their edges), tokens and sessions')
    .argument('<user>', 'user name or id')
    .action(async (name: string, _options: unknown, command: Command) => {
      await userRemove(context(command, io), name);
    });
  user
    .command('passwd')
    .description('change your own password: stdin holds the current one, then the new one')
    .option(
      '--reset <user>',
      "(admin) set <user>'s temporary password from stdin instead; it must be changed",
    )
    .action(async (options: { reset?: string }, command: Command) => {
      const ctx = context(command, io);
      if (options.reset === undefined) await userPasswd(ctx);
      else await userResetPassword(ctx, options.reset);
    });

  const token = program.command('token').description("API tokens (yours, or a user's with --user as admin)");
  token
    .command('create')
    .description('make a token and print its secret, once')
    .argument('<name>', 'what the token is for, e.g. ci or laptop')
    .option('--user <user>', 'for this user (admin)')
    .action(async (name: string, options: { user?: string }, command: Command) => {
      await tokenCreate(context(command, io), name, options.user);
    });
  token
    .command('list')
    .description('list tokens, without their secrets')
    .option('--user <user>', "this user's (admin)")
    .action(async (options: { user?: string }, command: Command) => {
      await tokenList(context(command, io), options.user);
    });
  token
    .command('revoke')
    .description('revoke a token')
    .argument('<id>', 'token id (t_...)')
    .option('--user <user>', "one of this user's (admin)")
    .action(async (id: string, options: { user?: string }, command: Command) => {
      await tokenRevoke(context(command, io), id, options.user);
    });

  grantCommands(program, (command) => context(command, io));
  ownerLimitCommands(program, (command) => context(command, io));
  quotaCommands(program, (command) => context(command, io));
  trafficCommand(program, (command) => context(command, io));

  program
    .command('completion')
    .description(`print a shell completion script (${COMPLETION_SHELLS.join(', ')})`)
    .argument('<shell>', COMPLETION_SHELLS.join(' | '))
    .addHelpText(
      'after',
      ['', 'Examples:', '  source <(sluicectl completion bash)', '  sluicectl completion fish | source'].join(
        '\n',
      ),
    )
    .action((shell: string) => io.stdout(completionScript(program, shell)));

  addExamples(program);

  // Without a known command: `help [command]`, or a bad_usage error naming what was wrong.
  program
    .argument('[command]')
    .allowExcessArguments()
    .action((name: string | undefined) => {
      if (name === 'help') {
        const topic = program.args[1];
        const command = program.commands.find((candidate) => candidate.name() === topic);
        (command ?? program).outputHelp();
        return;
      }
      const commands = program.commands.map((command) => command.name()).join(', ');
      if (name === undefined) throw ctlError('bad_usage', `no command given; commands: ${commands}`);
      throw ctlError('bad_usage', `unknown command ${JSON.stringify(name)}; commands: ${commands}`);
    });

  return program;
}

/** The CODE and message for any failure, with the exit code from the table. */
export function describeFailure(error: unknown): { code: string; message: string; exitCode: number } {
  if (isReported(error)) {
    return { code: error.code, message: error.message, exitCode: error.exitCode ?? UNKNOWN_ERROR_EXIT_CODE };
  }
  if (error instanceof CommanderError) {
    // Commander's messages read "error: missing required argument 'edge'".
    return describeFailure(ctlError('bad_usage', error.message.replace(/^error: /, '')));
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: UNEXPECTED, message, exitCode: UNKNOWN_ERROR_EXIT_CODE };
}

/** Runs one command line (`argv` without node and the script); answers the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    // --help and --version end parsing with a CommanderError of exit code 0.
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    const failure = describeFailure(error);
    io.stderr(`${errorLine(failure, io.color?.stderr ?? false)}\n`);
    if (error instanceof CommanderError) {
      const command = program.commands.find((candidate) => argv.includes(candidate.name()));
      io.stderr(`(see sluicectl ${command === undefined ? '' : `${command.name()} `}--help)\n`);
    }
    return failure.exitCode;
  }
}
