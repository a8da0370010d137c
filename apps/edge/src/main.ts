// sluice-edge: the standalone edge (TOML file), the managed edge (credential bundle from
// `enroll`), and their checks.

import { resolve } from 'node:path';
import { parseListen } from '@sluice/config/address';
import { MAX_EDGE_CONNECTIONS, MAX_SHARDS } from '@sluice/config/bounds';
import { CONFIG_ERRORS } from '@sluice/config/errors';
import { Command } from 'commander';
import { readStandaloneConfig } from './config-reader.ts';
import { EDGE_ERRORS, type EdgeError } from './errors.ts';
import { FileRuleSource, runtimeSettings } from './file-rule-source.ts';
import { createLogger } from './logger.ts';
import { predecessorOf } from './predecessor.ts';
import { versionLine } from './version.ts';

interface MainOptions {
  config?: string;
  bundle?: string;
  shards?: string;
  maxRules?: string;
  maxConnections?: string;
  metrics?: string;
  drainTimeout?: string;
  check?: boolean;
  version?: boolean;
}

/** Where `enroll` writes the credential bundle unless told otherwise. */
const DEFAULT_BUNDLE_FILE = './sluice-edge.bundle';
const MAX_DRAIN_TIMEOUT_SECS = 86_400;
/** --max-rules: each rule slot takes 336 bytes of counters per shard, touched only once used. */
const MAX_RULES_LIMIT = 65_536;

function usage(reason: string): EdgeError {
  return EDGE_ERRORS.error('usage', { reason: `${reason} (see sluice-edge --help)` });
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function parseShards(text: string): number {
  const shards = Number(text);
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)
    throw usage(`--shards ${text}: expected 1..${MAX_SHARDS}`);
  return shards;
}

function parseMaxRules(text: string): number {
  const rules = Number(text);
  if (!Number.isInteger(rules) || rules < 1 || rules > MAX_RULES_LIMIT)
    throw usage(`--max-rules ${text}: expected 1..${MAX_RULES_LIMIT}`);
  return rules;
}

function parseMaxConnections(text: string): number {
  const connections = Number(text);
  if (!Number.isInteger(connections) || connections < 1 || connections > MAX_EDGE_CONNECTIONS)
    throw usage(`--max-connections ${text}: expected 1..${MAX_EDGE_CONNECTIONS}`);
  return connections;
}

function parseMetrics(text: string): { host: string; port: number } {
  try {
    const listen = parseListen(text);
    if (listen.portLo !== listen.portHi) throw new RangeError('metrics listens on one port, not a range');
    return { host: listen.host, port: listen.portLo };
  } catch (err) {
    if (err instanceof RangeError) throw usage(`--metrics ${text}: ${err.message}`);
    throw err;
  }
}

function parseDrainTimeout(text: string): number {
  const secs = Number(text);
  if (!Number.isFinite(secs) || secs < 0 || secs > MAX_DRAIN_TIMEOUT_SECS) {
    throw usage(`--drain-timeout ${text}: expected seconds, 0..${MAX_DRAIN_TIMEOUT_SECS}`);
  }
  return secs;
}

async function runEdge(options: MainOptions): Promise<void> {
  if (options.version) {
    process.stdout.write(`${versionLine()}\n`);
    process.exit(0);
  }
  if (options.config && options.bundle) throw usage('--config and --bundle exclude each other');
  if (options.bundle) {
    if (options.check) throw usage('--check validates a --config file');
    // The managed edge's modules (bundle, control client, pushed rules, and with them the control
    // protocol's schemas) stay unloaded in a standalone one: about 2 MiB of its idle RSS.
    const { readBundleFile } = await import('./bundle-file.ts');
    const bundle = await readBundleFile(options.bundle);
    const [{ ServerRuleSource }, { EdgeRuntime }] = await Promise.all([
      import('./server-rule-source.ts'),
      import('./edge-runtime.ts'),
    ]);
    const edge = new EdgeRuntime({
      name: bundle.name,
      shards: options.shards === undefined ? null : parseShards(options.shards),
      ...(options.maxRules === undefined ? {} : { maxRules: parseMaxRules(options.maxRules) }),
      maxConnections:
        options.maxConnections === undefined ? null : parseMaxConnections(options.maxConnections),
      metrics: options.metrics === undefined ? null : parseMetrics(options.metrics),
      drainTimeoutSecs: parseDrainTimeout(options.drainTimeout ?? '30'),
      // Beside the bundle: the counters that survive a kill (edge-state-file.ts) and the rules
      // a restart resumes (applied-rules-file.ts).
      source: new ServerRuleSource({
        bundle,
        stateFile: `${resolve(options.bundle)}.state`,
        rulesFile: `${resolve(options.bundle)}.rules`,
      }),
      log: await createLogger(),
      ownProcess: true,
      predecessor: predecessorOf(),
    });
    await edge.start();
    return;
  }
  if (!options.config) throw usage('--config FILE or --bundle FILE is required');
  for (const flag of ['shards', 'metrics', 'drainTimeout'] as const) {
    if (options[flag] !== undefined)
      throw usage(
        `--${flag === 'drainTimeout' ? 'drain-timeout' : flag} goes with --bundle; with --config, set it in the file`,
      );
  }
  if (options.maxRules !== undefined) throw usage('--max-rules goes with --bundle');
  if (options.maxConnections !== undefined) {
    throw usage('--max-connections goes with --bundle; with --config, set max_connections in the file');
  }
  // The config's thread loads the validator while this one loads the runtime (loaded here, not
  // at the top, so that the two overlap).
  const reading = readStandaloneConfig(options.config);
  const runtime = options.check ? null : import('./edge-runtime.ts');
  const config = await reading;
  if (runtime === null) {
    // --check
    process.stdout.write(`config ok: ${config.file} (${config.rules.length} rules)\n`);
    process.exit(0);
  }
  const { EdgeRuntime } = await runtime;
  const edge = new EdgeRuntime({
    ...runtimeSettings(config),
    source: new FileRuleSource(config),
    log: await createLogger(),
    ownProcess: true,
    predecessor: predecessorOf(),
  });
  await edge.start();
}

async function runEnroll(uri: string, options: { bundle: string; force?: boolean }): Promise<void> {
  const [{ enroll }, { formatControlAddress }] = await Promise.all([
    import('./enroll.ts'),
    import('@sluice/protocol'),
  ]);
  const { file, bundle } = await enroll(uri, { bundleFile: options.bundle, force: options.force ?? false });
  process.stdout.write(
    `enrolled as edge ${JSON.stringify(bundle.name)} (id ${bundle.edgeId}) with ${bundle.servers.map(formatControlAddress).join(', ')}\n` +
      `bundle written to ${file} (mode 0600; it holds the edge secret)\n` +
      `start the edge with: sluice-edge --bundle ${shellQuote(file)}\n`,
  );
}

const program = new Command('sluice-edge')
  .description(
    'sluice edge: relays TCP and UDP from listen addresses to targets, sharded over worker threads',
  )
  .enablePositionalOptions()
  .option('-c, --config <file>', 'run standalone from a config file (TOML)')
  .option('-b, --bundle <file>', 'run managed by a sluice-server, from the bundle `enroll` wrote')
  .option('--shards <n>', 'managed: shards (worker threads); default: available cores')
  .option('--max-rules <n>', 'managed: how many rules can be active at once (default 4096)')
  .option(
    '--max-connections <n>',
    'managed: the most TCP connections held at once (default: a quarter of the descriptor limit)',
  )
  .option('--metrics <host:port>', 'managed: serve /metrics and /healthz here')
  .option('--drain-timeout <secs>', 'managed: how long connections may finish at shutdown (default 30)')
  .option('--check', 'validate the config and exit: 0 valid, 2 invalid')
  .option('-V, --version', 'print the version, the Node version and the relay path')
  .helpOption('-h, --help', 'show this help')
  .showHelpAfterError()
  .action((options: MainOptions) => runEdge(options));

program
  .command('enroll')
  .description('redeem a one-time enrollment code and write the credential bundle (mode 0600)')
  .argument(
    '<uri>',
    "the server's enrollment URI: sluice://HOST:PORT[,HOST:PORT...]/enroll?pin=SHA256&code=CODE",
  )
  .option('-b, --bundle <file>', 'where to write the bundle', DEFAULT_BUNDLE_FILE)
  .option('--force', 'replace an existing bundle file')
  .action((uri: string, options: { bundle: string; force?: boolean }) => runEnroll(uri, options));

try {
  await program.parseAsync();
} catch (err) {
  if (CONFIG_ERRORS.is(err) || EDGE_ERRORS.is(err)) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    process.exit(err.exitCode ?? 1);
  }
  throw err;
}
