/**
 * @module
 * The `berth` program. Each command lives in `cli/commands/<name>.ts` and registers itself with one
 * line in `COMMANDS`; a command loads its implementation only when it runs.
 */
import { Command, CommanderError, Help, type Option } from 'commander';
import { VERSION } from '../core/version.js';
import { reportError, type CliContext } from './run.js';

export type Register = (program: Command, ctx: CliContext) => void;

/**
 * Every command group with the top-level commands it registers (test/cli/program.test.ts checks the
 * names against what each group registers). A run loads and registers only the group its first
 * argument names, so `berth decrypt` neither loads nor builds the other forty commands; anything
 * else (help, an unknown word that gets a suggestion, completion scripts, which list every
 * command) gets all.
 */
export const COMMANDS: readonly { names: readonly string[]; load: () => Promise<Register>; all?: true }[] = [
  { names: ['login', 'logout', 'list'], load: async () => (await import('./commands/store.js')).registerStoreCommands },
  { names: ['configure', 'unconfigure'], load: async () => (await import('./commands/configure.js')).registerConfigureCommands },
  { names: ['import', 'export'], load: async () => (await import('./commands/transfer.js')).registerTransferCommands },
  { names: ['doctor'], load: async () => (await import('./commands/doctor.js')).registerDoctorCommand },
  {
    names: ['keygen', 'key-id', 'encrypt', 'decrypt', 'rekey'],
    load: async () => (await import('./commands/encrypt.js')).registerEncryptCommands,
  },
  { names: ['exec'], load: async () => (await import('./commands/exec.js')).registerExecCommand },
  { names: ['generate'], load: async () => (await import('./commands/generate.js')).registerGenerateCommand },
  { names: ['registries'], load: async () => (await import('./commands/registries.js')).registerRegistriesCommands },
  { names: ['daemon'], load: async () => (await import('./commands/daemon.js')).registerDaemonCommands },
  { names: ['completion'], load: async () => (await import('./commands/completion.js')).registerCompletionCommand, all: true },
  { names: ['kubelet-credential-provider', 'kube'], load: async () => (await import('./commands/kube.js')).registerKubeCommands },
  { names: ['version'], load: async () => registerVersionCommand },
];

function registerVersionCommand(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('print the version')
    .action(() => {
      ctx.stdout.write(`berth ${VERSION}\n`);
    });
}

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

/** The program; with `argv`, only the command group its first argument names, when it names one. */
export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
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
  const named = COMMANDS.find((group) => group.names.includes(argv[0] ?? ''));
  const groups = named && !named.all ? [named] : COMMANDS;
  for (const register of await Promise.all(groups.map((group) => group.load()))) register(program, ctx);
  return program;
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const program = await buildProgram(ctx, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE; // help and --version exit 0
    return reportError(err, ctx);
  }
}
