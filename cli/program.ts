/**
 * @module
 * The `berth` program. Each command lives in `cli/commands/<name>.ts` and registers itself with one
 * line in `COMMANDS`; a command loads its implementation only when it runs.
 */
import { Command, CommanderError, Help, type Option } from 'commander';
import { VERSION } from '../core/version.js';
import { reportError, type CliContext } from './run.js';
import { registerGenerateCommand } from './commands/generate.js';
import { registerRegistriesCommands } from './commands/registries.js';
import { registerDaemonCommands } from './commands/daemon.js';
import { registerStoreCommands } from './commands/store.js';
import { registerConfigureCommands } from './commands/configure.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerEncryptCommands } from './commands/encrypt.js';
import { registerExecCommand } from './commands/exec.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerKubeCommands } from './commands/kube.js';
import { registerTransferCommands } from './commands/transfer.js';

export type Register = (program: Command, ctx: CliContext) => void;

const COMMANDS: Register[] = [
  registerStoreCommands,
  registerConfigureCommands,
  registerTransferCommands,
  registerDoctorCommand,
  registerEncryptCommands,
  registerExecCommand,
  registerGenerateCommand,
  registerRegistriesCommands,
  registerDaemonCommands,
  registerCompletionCommand,
  registerKubeCommands,
];

/** Exit codes, the same for every berth program (README, "Exit codes"). */
export const EXIT_USAGE = 2;

/**
 * The option's help line without a default that says nothing (an empty list from a repeatable
 * option) or that its description already states.
 */
function optionDescription(this: Help, option: Option): string {
  const empty = Array.isArray(option.defaultValue) && option.defaultValue.length === 0;
  if (!empty && !/\(default[: ]/.test(option.description)) return Help.prototype.optionDescription.call(this, option);
  const shown = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { defaultValue: undefined });
  return Help.prototype.optionDescription.call(this, shown);
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('berth')
    .description('registry credentials for container tools')
    .version(`berth ${VERSION}`, '-v, --version', 'print the version')
    .showHelpAfterError('berth: hint: add --help for usage')
    .configureHelp({ optionDescription })
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      outputError: (text, write) => write(`berth: error: ${text.replace(/^error: /, '')}`),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  program
    .command('version')
    .description('print the version')
    .action(() => {
      ctx.stdout.write(`berth ${VERSION}\n`);
    });
  return program;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE; // help and --version exit 0
    return reportError(err, ctx);
  }
}
