/**
 * @module
 * `berth exec --env-file FILE -- CMD…`: runs a command with the variables of an encrypted env file
 * set, decrypting in memory so the plaintext never touches the disk. The command inherits stdio and
 * signals; berth exits with its status.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { BerthError, UsageError } from '../../core/errors.js';
import type { CliContext } from '../run.js';
import { loadKeys, readEnvFile } from './encrypt.js';

/** Not a failure of berth: the command's own exit status, passed through without a message. */
export class CommandExit extends BerthError {
  override name = 'CommandExit';
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

async function runCommand(command: string[], env: Record<string, string | undefined>): Promise<number> {
  const [file, ...args] = command;
  const child = spawn(file!, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(new UsageError(err.code === 'ENOENT' ? `command not found: ${file}` : `cannot run ${file}: ${err.message}`)),
      );
      child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return (signal && numbers[signal]) || 1;
}

export function registerExecCommand(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('run a command with the variables of an encrypted env file (never written to disk)')
    .requiredOption('--env-file <file>', 'encrypted env file (KEY=VALUE lines), or - for stdin')
    .option(
      '--key-path <path>',
      'key file, tried first; then BERTH_AES_KEY, ./berth.aes, ./codeship.aes (the file names the key it opens with)',
    )
    .argument('<command...>', 'the command and its arguments (after --)')
    .addHelpText('after', '\nExample:\n  berth exec --env-file env.encrypted -- ./deploy.sh production\n')
    .action(async (command: string[], options: { envFile: string; keyPath?: string }) => {
      const key = await loadKeys(ctx, options.keyPath);
      const entries = await readEnvFile(ctx, options.envFile, key);
      const env: Record<string, string | undefined> = { ...ctx.env };
      // The key opened the file; the command gets the variables, not the means to open every
      // other file encrypted for that key.
      const { KEY_VARIABLES } = await import('../../core/crypto/key-source.js');
      for (const name of KEY_VARIABLES) delete env[name];
      for (const { name, value } of entries) env[name] = value;
      const status = await runCommand(command, env);
      if (status !== 0) throw new CommandExit('', { exitCode: status });
    });
}
