/**
 * @module
 * The `berth` program. Each command lives in `cli/commands/<name>.ts` and registers itself with one
 * line in `COMMANDS`; a command loads its implementation only when it runs.
 */
import { Command, CommanderError } from 'commander';
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
  registerKubeCommands,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('berth')
    .description('registry credentials for container tools')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      outputError: (text, write) => write(`berth: error: ${text.replace(/^error: /, '')}`),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    return reportError(err, ctx);
  }
}
