// Every command that does something shows examples in its --help, and each example is a real
// command path with only flags that command (or sluicectl itself) takes.

import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './cli.ts';
import { HELP_EXAMPLES } from './help-examples.ts';

function program(out: (text: string) => void = () => {}): Command {
  return buildProgram({
    env: {},
    stdout: out,
    stderr: () => {},
    interrupt: () => new AbortController().signal,
  });
}

function leaves(command: Command, path = ''): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const subPath = path === '' ? sub.name() : `${path} ${sub.name()}`;
    return sub.commands.length === 0 ? [[subPath, sub] as [string, Command]] : leaves(sub, subPath);
  });
}

const longFlags = (command: Command): string[] =>
  command.options.flatMap((option) => (option.long === undefined ? [] : [option.long]));

describe('help examples', () => {
  const root = program();

  it('every command that does something has examples, and no example is for a command that does not exist', () => {
    const paths = leaves(root).map(([path]) => path);
    expect(Object.keys(HELP_EXAMPLES).sort()).toEqual([...paths].sort());
  });

  it.each(Object.entries(HELP_EXAMPLES))(
    '%s: each example names that command and only flags it takes',
    (path, examples) => {
      const command = leaves(root).find(([p]) => p === path)![1];
      const allowed = new Set([...longFlags(command), ...longFlags(root), '--help']);
      for (const example of examples) {
        const words = example
          .slice(example.indexOf('sluicectl '))
          .split('(')[0]!
          .trim()
          .split(/\s+/)
          .slice(1);
        const named = words
          .filter((word) => !word.startsWith('-'))
          .slice(0, path.split(' ').length)
          .join(' ');
        expect(named, example).toBe(path);
        for (const flag of words.filter((word) => word.startsWith('--'))) {
          expect(allowed.has(flag.split('=')[0]!), `${example}: ${flag}`).toBe(true);
        }
      }
    },
  );

  it("shows them at the end of the command's --help", async () => {
    let text = '';
    await program((chunk) => {
      text += chunk;
    })
      .parseAsync(['grant', 'add', '--help'], { from: 'user' })
      .catch(() => {});
    expect(text).toContain('Examples:\n  sluicectl grant add alice edge-01 8000-8099\n');
  });
});
