// `sluicectl completion bash|zsh|fish`: a shell completion script made from the program's own
// commands and flags when it runs, so it cannot fall behind them. Each script holds one table
// (the words that may follow each command path) and a few lines of shell that find the path typed
// so far: the words that are not flags and that name a subcommand.

import type { Command } from 'commander';
import { ctlError } from '../errors.ts';

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;

/** Each command path (`''`, `user`, `user add`) with the subcommands and flags that may follow it. */
export function completionTable(program: Command): Map<string, string[]> {
  const globalFlags = program.options.flatMap((option) => (option.long === undefined ? [] : [option.long]));
  const table = new Map<string, string[]>();
  const walk = (command: Command, path: string): void => {
    const flags = command.options.flatMap((option) => (option.long === undefined ? [] : [option.long]));
    const words = [
      ...command.commands.map((sub) => sub.name()),
      ...new Set([...flags, ...globalFlags, '--help']),
    ];
    table.set(path, words);
    for (const sub of command.commands) walk(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  walk(program, '');
  return table;
}

/** The table as the cases of a shell `case` (bash, zsh) or `switch` (fish). */
function cases(table: Map<string, string[]>, line: (path: string, words: string) => string): string {
  return [...table].map(([path, words]) => line(path, words.join(' '))).join('\n');
}

function bash(table: Map<string, string[]>): string {
  return `# sluicectl completion for bash: source <(sluicectl completion bash), or save it as
# /etc/bash_completion.d/sluicectl
_sluicectl_words() {
  case "$1" in
${cases(table, (path, words) => `    '${path}') echo '${words}' ;;`)}
    *) return 1 ;;
  esac
}
_sluicectl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" key="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in -*) continue ;; esac
    if _sluicectl_words "\${key:+$key }$word" >/dev/null; then key="\${key:+$key }$word"; fi
  done
  COMPREPLY=($(compgen -W "$(_sluicectl_words "$key")" -- "$cur"))
}
complete -F _sluicectl sluicectl
`;
}

function zsh(table: Map<string, string[]>): string {
  return `#compdef sluicectl
# sluicectl completion for zsh: source <(sluicectl completion zsh) after compinit, or save it as
# _sluicectl in a directory of your fpath
_sluicectl_words() {
  case "$1" in
${cases(table, (path, words) => `    '${path}') print -r -- '${words}' ;;`)}
    *) return 1 ;;
  esac
}
_sluicectl() {
  local key="" word i
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    [[ $word == -* ]] && continue
    if _sluicectl_words "\${key:+$key }$word" >/dev/null; then key="\${key:+$key }$word"; fi
  done
  compadd -- \${=$(_sluicectl_words "$key")}
}
compdef _sluicectl sluicectl
`;
}

function fish(table: Map<string, string[]>): string {
  return `# sluicectl completion for fish: sluicectl completion fish | source, or save it as
# ~/.config/fish/completions/sluicectl.fish
function __sluicectl_table
    switch "$argv"
${cases(table, (path, words) => `        case '${path}'\n            string split ' ' -- '${words}'`)}
        case '*'
            return 1
    end
end
function __sluicectl_words
    set -l key ''
    for word in (commandline -opc)[2..-1]
        string match -q -- '-*' $word; and continue
        set -l next (string trim -- "$key $word")
        if __sluicectl_table $next >/dev/null
            set key $next
        end
    end
    __sluicectl_table $key
end
complete -c sluicectl -f -a '(__sluicectl_words)'
`;
}

export function completionScript(program: Command, shell: string): string {
  const table = completionTable(program);
  switch (shell) {
    case 'bash':
      return bash(table);
    case 'zsh':
      return zsh(table);
    case 'fish':
      return fish(table);
    default:
      throw ctlError(
        'bad_usage',
        `completion: ${JSON.stringify(shell)} is not one of ${COMPLETION_SHELLS.join(', ')}`,
      );
  }
}
