/**
 * @module
 * `berth completion bash|zsh|fish`: a shell completion script made from the command tree itself,
 * so every command, subcommand and option is offered and none is forgotten when one is added.
 */
import type { Command } from 'commander';
import { ArgumentError } from '../../core/errors.js';
import type { CliContext } from '../run.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface Node {
  /** The words that lead here, e.g. ['registries', 'add']. */
  path: string[];
  description: string;
  subcommands: string[];
  options: { long?: string; short?: string; description: string }[];
}

function walk(command: Command, path: string[] = []): Node[] {
  const subcommands = command.commands.filter((sub) => sub.name() !== 'help');
  const node: Node = {
    path,
    description: command.description(),
    subcommands: subcommands.map((sub) => sub.name()),
    options: [
      ...command.options.map((option) => ({ long: option.long, short: option.short, description: option.description })),
      { long: '--help', short: '-h', description: 'show help' },
    ],
  };
  return [node, ...subcommands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
}

function bash(nodes: Node[]): string {
  const cases = nodes.map((node) => {
    const words = [...node.subcommands, ...node.options.flatMap((option) => (option.long ? [option.long] : []))];
    return `    ${JSON.stringify(node.path.join(' '))}) echo ${shellQuote(words.join(' '))} ;;`;
  });
  return `# berth completion for bash: eval "$(berth completion bash)", or save it in
# ~/.local/share/bash-completion/completions/berth
_berth_words() {
  case "$1" in
${cases.join('\n')}
  esac
}
_berth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case " $(_berth_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_berth_words "$path")" -- "$cur"))
}
complete -o default -F _berth berth
`;
}

function zsh(nodes: Node[]): string {
  return `# berth completion for zsh: eval "$(berth completion zsh)" in ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(nodes).replace(/^#.*\n#.*\n/, '')}`;
}

function fish(nodes: Node[]): string {
  const lines = ['# berth completion for fish: berth completion fish > ~/.config/fish/completions/berth.fish', 'complete -c berth -f'];
  for (const node of nodes) {
    const condition =
      node.path.length === 0 ? '__fish_use_subcommand' : node.path.map((word) => `__fish_seen_subcommand_from ${word}`).join('; and ');
    for (const sub of node.subcommands) {
      lines.push(`complete -c berth -n ${shellQuote(condition)} -a ${sub} -d ${shellQuote(describe(nodes, [...node.path, sub]))}`);
    }
    for (const option of node.options) {
      const flags = [option.long ? `-l ${option.long.slice(2)}` : '', option.short ? `-s ${option.short.slice(1)}` : ''].filter(Boolean);
      lines.push(`complete -c berth -n ${shellQuote(condition)} ${flags.join(' ')} -d ${shellQuote(option.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function describe(nodes: Node[], path: string[]): string {
  return nodes.find((node) => node.path.join(' ') === path.join(' '))?.description ?? '';
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function completionScript(program: Command, shell: Shell): string {
  const nodes = walk(program);
  return shell === 'bash' ? bash(nodes) : shell === 'zsh' ? zsh(nodes) : fish(nodes);
}

export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', SHELLS.join(', '))
    .addHelpText(
      'after',
      '\nExamples:\n  eval "$(berth completion bash)"            # in ~/.bashrc\n' +
        '  eval "$(berth completion zsh)"             # in ~/.zshrc\n' +
        '  berth completion fish > ~/.config/fish/completions/berth.fish\n',
    )
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new ArgumentError(`no completion for "${shell}"`, { hint: `use one of: ${SHELLS.join(', ')}` });
      }
      ctx.stdout.write(completionScript(program, shell as Shell));
    });
}
