// The completion scripts in the shells they are for: sourced into a real bash, zsh and fish,
// they offer the subcommands and flags of the command path typed so far.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireProgram } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../cli.ts';
import { completionScript, completionTable } from './completion.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const run = promisify(execFile);

function program() {
  return buildProgram({
    env: {},
    stdout: () => {},
    stderr: () => {},
    interrupt: () => new AbortController().signal,
  });
}

/** `sluicectl completion SHELL` as a user runs it, then `script` in that shell. */
async function inShell(shell: 'bash' | 'zsh' | 'fish', script: string): Promise<string[]> {
  const binary = requireProgram(shell);
  const load = `${process.execPath} ${MAIN} completion ${shell}`;
  const source = shell === 'fish' ? `${load} | source` : `source <(${load})`;
  const prelude = shell === 'zsh' ? 'autoload -U compinit && compinit -u -D\n' : '';
  const { stdout } = await run(binary, ['-c', `${prelude}${source}\n${script}`], { timeout: 20_000 });
  return stdout.split(/\s+/).filter((word) => word !== '');
}

describe('completionTable', () => {
  it('lists every command path with its subcommands, its own flags and the global ones', () => {
    const table = completionTable(program());
    expect(table.get('')).toEqual(
      expect.arrayContaining(['push-rule', 'user', 'completion', '--server', '--help']),
    );
    expect(table.get('user')).toEqual(expect.arrayContaining(['add', 'passwd', '--server', '--help']));
    expect(table.get('user')).not.toContain('push-rule');
    expect(table.get('push-rule')).toEqual(expect.arrayContaining(['--protocol', '--sni', '--token']));
    expect(table.get('user add')).toEqual(expect.arrayContaining(['--help', '--format']));
    expect(table.has('push-rule user')).toBe(false);
  });

  it('refuses a shell it does not know, naming the ones it does', () => {
    expect(() => completionScript(program(), 'tcsh')).toThrow(
      'completion: "tcsh" is not one of bash, zsh, fish',
    );
  });
});

describe('in the shells', () => {
  it('bash completes commands, then the subcommands of the path typed, past flags and their values', async () => {
    const ask = (words: string[], cword: number) =>
      inShell(
        'bash',
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${cword}; _sluicectl; echo "\${COMPREPLY[@]}"`,
      );
    expect(await ask(['sluicectl', 'pu'], 1)).toEqual(['push-rule']);
    expect(await ask(['sluicectl', '--server', 'http://x', 'user', ''], 4)).toEqual(
      expect.arrayContaining(['add', 'list', 'passwd', '--help']),
    );
    expect(await ask(['sluicectl', 'push-rule', '--pro'], 2)).toEqual(['--protocol', '--proxy-protocol']);
  });

  it('zsh offers the same words for a path', async () => {
    expect(await inShell('zsh', "_sluicectl_words 'user'")).toEqual(
      expect.arrayContaining(['add', 'passwd', '--help']),
    );
    expect(await inShell('zsh', "_sluicectl_words ''")).toEqual(
      expect.arrayContaining(['push-rule', 'completion']),
    );
  });

  it('fish completes the subcommands of the path typed', async () => {
    const words = await inShell('fish', "complete -C 'sluicectl token '");
    expect(words).toEqual(expect.arrayContaining(['create', 'list', 'revoke']));
    expect(words).not.toContain('push-rule');
  });
});
