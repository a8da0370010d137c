// sluice-edge: the standalone edge (TOML file) and its checks.

import { Command } from 'commander';
import { ConfigError, loadStandaloneConfig } from '@sluice/config';
import { createLogger } from './logger.ts';
import { StandaloneEdge } from './standalone-edge.ts';
import { versionLine } from './version.ts';

const program = new Command('sluice-edge')
  .description('sluice edge: relays TCP from listen addresses to targets, sharded over worker threads')
  .option('-c, --config <file>', 'standalone config (TOML)')
  .option('--check', 'validate the config and exit: 0 valid, 2 invalid')
  .option('-V, --version', 'print the version, the Node version and the relay path')
  .helpOption('-h, --help', 'show this help')
  .showHelpAfterError();

program.parse();
const options = program.opts<{ config?: string; check?: boolean; version?: boolean }>();

if (options.version) {
  process.stdout.write(`${versionLine()}\n`);
  process.exit(0);
}
if (!options.config) {
  process.stderr.write('error usage: --config FILE is required (see sluice-edge --help)\n');
  process.exit(2);
}

try {
  const config = await loadStandaloneConfig(options.config);
  if (options.check) {
    process.stdout.write(`config ok: ${config.file} (${config.rules.length} rules)\n`);
    process.exit(0);
  }
  const edge = new StandaloneEdge(config, createLogger());
  await edge.start();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
