// sluice-server: the control plane. `serve` runs it; `backup` and `restore` handle its
// database. Every failure prints `CODE: message` on stderr and exits with the code's number
// from errors.ts (or @sluice/api's table for an API code).

import { text } from 'node:stream/consumers';
import { API_ERRORS } from '@sluice/api';
import { SluiceError } from '@sluice/errors';
import { Command } from 'commander';
import { type DataDir, DEFAULT_DATA_DIR, openDataDir } from './data-dir.ts';
import { SERVER_ERRORS, serverError } from './errors.ts';
import { createLogger } from './logger.ts';
import { prepareReplicaDir } from './replica-dir.ts';
import { loadServerConfig } from './server-config.ts';
import { SluiceServer } from './sluice-server.ts';
import { backupDatabase, restoreDatabase } from './store/backup.ts';
import { describeStore, isPostgresSpec } from './store/open-store.ts';
import { acquireStoreLock } from './store-lock.ts';
import { addToken, addUser, setPassword } from './users.ts';
import { versionLine } from './version.ts';

function fail(error: unknown): never {
  if (error instanceof SluiceError && error.exitCode !== undefined) {
    process.stderr.write(`${error.code}: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(
    `internal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(API_ERRORS.table.internal.exitCode);
}

const STORE_HELP = 'the store: a postgres:// URL, or an SQLite file (default: sluice.db in the data dir)';

/** The store spec of a user command: --store, else the data dir's SQLite file. */
function storeSpec(options: { dataDir: string; store?: string }): string {
  return options.store ?? openDataDir(options.dataDir, { create: false }).dbFile;
}

/**
 * The data dir with the SQLite file backup and restore work on. They copy SQLite files; a
 * PostgreSQL store has its own tools.
 */
function sqliteDir(options: { dataDir: string; store?: string }, command: string, create: boolean): DataDir {
  const { store } = options;
  if (store !== undefined && isPostgresSpec(store)) {
    throw serverError(
      'usage',
      `--store: ${command} handles the SQLite store only; for PostgreSQL use pg_dump and pg_restore`,
    );
  }
  const dir = openDataDir(options.dataDir, { create });
  return store === undefined ? dir : { ...dir, dbFile: store };
}

async function serve(options: {
  dataDir: string;
  store?: string;
  config?: string;
  control?: string;
  api?: string;
  metrics?: string;
  advertise?: string;
}): Promise<void> {
  const config = loadServerConfig(options);
  const logger = createLogger();
  const server = await SluiceServer.start({ dataDir: options.dataDir, config, logger });
  if (server.adminToken !== null) {
    // The only time the token exists outside its holder's hands: the store keeps its hash.
    process.stdout.write(`admin token: ${server.adminToken}\n`);
  }
  // Signals are handled before the ready line: whoever waits for it may stop the server at once.
  let signals = 0;
  const stop = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    logger.info({ signal }, 'stopping');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const { control, api, metrics } = server.addresses;
  logger.info(
    {
      dataDir: server.dataDir.path,
      store: describeStore(config.store ?? server.dataDir.dbFile),
      control: `${control.address}:${control.port}`,
      api: `${api.address}:${api.port}`,
      metrics: `${metrics.address}:${metrics.port}`,
      advertise: `${server.advertise.host}:${server.advertise.port}`,
      fingerprint: server.certificate.fingerprint,
      ackTimeoutMs: config.ackTimeoutMs,
      statsIntervalMs: config.statsIntervalMs,
    },
    'sluice-server ready',
  );
}

async function backup(options: { dataDir: string; out: string; store?: string }): Promise<void> {
  const dir = sqliteDir(options, 'backup', false);
  const result = await backupDatabase(dir, options.out);
  process.stdout.write(
    `backup written: ${options.out} (${result.pages} pages, schema version ${result.schemaVersion})\n`,
  );
}

async function restore(options: {
  dataDir: string;
  in: string;
  force?: boolean;
  store?: string;
}): Promise<void> {
  const dir = sqliteDir(options, 'restore', true);
  // A server running on the dir would keep writing its own copy of the database.
  const lock = await acquireStoreLock(dir.path);
  try {
    const result = await restoreDatabase(dir, options.in, { force: options.force === true });
    process.stdout.write(
      `restored ${options.in} into ${dir.dbFile} (schema version ${result.schemaVersion})\n`,
    );
  } finally {
    await lock.release();
  }
}

const program = new Command('sluice-server')
  .description('sluice control plane: edges, rules, operator HTTP API, metrics')
  .version(versionLine(), '-V, --version', 'print the version')
  .helpOption('-h, --help', 'show this help')
  .showHelpAfterError()
  .exitOverride((error) => {
    // Help and version are not failures; everything else commander refuses is a usage error.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    )
      process.exit(0);
    process.exit(SERVER_ERRORS.table.usage.exitCode);
  });

program
  .command('serve')
  .description('run the server')
  .option('-d, --data-dir <dir>', 'data dir (made mode 0700 on first start)', DEFAULT_DATA_DIR)
  .option('-c, --config <file>', 'server config (TOML)')
  .option('--store <spec>', STORE_HELP)
  .option('--control <host:port>', 'control listener for edges (default 0.0.0.0:7443)')
  .option('--api <host:port>', 'operator HTTP API (default 127.0.0.1:7080)')
  .option('--metrics <host:port>', 'Prometheus /metrics (default 127.0.0.1:7081)')
  .option('--advertise <host:port>', 'where edges reach the control listener, for enrollment URIs')
  .action((options) => serve(options).catch(fail));

program
  .command('backup')
  .description('copy the database while the server runs')
  .option('-d, --data-dir <dir>', 'data dir', DEFAULT_DATA_DIR)
  .requiredOption('-o, --out <file>', 'backup file to write (mode 0600)')
  .option('--store <file>', 'the SQLite file (default: sluice.db in the data dir)')
  .action((options) => backup(options).catch(fail));

program
  .command('restore')
  .description('put a backup in place as the database (the server must be stopped)')
  .option('-d, --data-dir <dir>', 'data dir', DEFAULT_DATA_DIR)
  .requiredOption('-i, --in <file>', 'backup file to restore')
  .option('--force', 'replace a database the data dir already holds')
  .option('--store <file>', 'the SQLite file (default: sluice.db in the data dir)')
  .action((options) => restore(options).catch(fail));

program
  .command('migrate-store')
  .description("copy a stopped server's SQLite store into an empty PostgreSQL database, and check every row")
  .requiredOption('--from <dir>', 'the data dir whose sluice.db is copied')
  .requiredOption('--to <url>', 'postgres://USER@HOST:PORT/DATABASE (empty)')
  .action(async (options: { from: string; to: string }) => {
    try {
      const { migrateStore } = await import('./store/migrate-store.ts');
      const tables = await migrateStore(options.from, options.to, (line) =>
        process.stderr.write(`${line}\n`),
      );
      const rows = tables.reduce((sum, table) => sum + table.rows, 0);
      process.stdout.write(
        `moved ${rows} rows in ${tables.length} tables to ${describeStore(options.to)}, every row checked; start the server with --store and the same data dir\n`,
      );
    } catch (error) {
      fail(error);
    }
  });

program
  .command('prepare-replica <dir>')
  .description(
    'make the data dir of another replica (PostgreSQL store): it gets the certificate and key of --from, so edges pin every replica alike',
  )
  .requiredOption('--from <dir>', 'the data dir of a replica that has started once')
  .action((dir: string, options: { from: string }) => {
    try {
      const prepared = prepareReplicaDir(options.from, dir);
      process.stdout.write(
        `replica data dir ${prepared.dataDir.path} prepared (certificate fingerprint ${prepared.fingerprint})\n`,
      );
    } catch (error) {
      fail(error);
    }
  });

const users = program.command('user').description('API users and their tokens (works while the server runs)');

users
  .command('add <name>')
  .description('make a user and print its first token')
  .option('-d, --data-dir <dir>', 'data dir', DEFAULT_DATA_DIR)
  .option('--store <spec>', STORE_HELP)
  .option('--role <role>', 'user (its own rules only) or admin', 'user')
  .action(async (name: string, options: { dataDir: string; store?: string; role: string }) => {
    try {
      if (options.role !== 'user' && options.role !== 'admin') {
        throw serverError('usage', `--role: "${options.role}" is not "user" or "admin"`);
      }
      const token = await addUser(storeSpec(options), name, options.role);
      process.stdout.write(`token: ${token}\n`);
    } catch (error) {
      fail(error);
    }
  });

users
  .command('token <name>')
  .description('make another token for a user and print it')
  .option('-d, --data-dir <dir>', 'data dir', DEFAULT_DATA_DIR)
  .option('--store <spec>', STORE_HELP)
  .action(async (name: string, options: { dataDir: string; store?: string }) => {
    try {
      const token = await addToken(storeSpec(options), name);
      process.stdout.write(`token: ${token}\n`);
    } catch (error) {
      fail(error);
    }
  });

users
  .command('password <name>')
  .description(
    'set a password from the first line of stdin (the web console logs in with it); a new name is made an admin',
  )
  .option('-d, --data-dir <dir>', 'data dir', DEFAULT_DATA_DIR)
  .option('--store <spec>', STORE_HELP)
  .action(async (name: string, options: { dataDir: string; store?: string }) => {
    try {
      const password = (await text(process.stdin)).split(/\r?\n/, 1)[0] ?? '';
      const made = await setPassword(storeSpec(options), name, password);
      process.stdout.write(
        made ? `made admin user ${name} with that password\n` : `password set for ${name}\n`,
      );
    } catch (error) {
      fail(error);
    }
  });

await program.parseAsync();
