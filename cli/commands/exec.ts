/**
 * @module
 * `berth exec --env-file FILE -- CMD…`: runs a command with the variables of an encrypted env file
 * set, decrypting in memory so the plaintext never touches the disk. The command inherits stdio and
 * signals; berth exits with its status, as a shell reports it.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { BerthError, UsageError } from '../../core/errors.js';
import type { CliContext } from '../run.js';
import { loadKeys, readEnvFile } from './encrypt.js';

/** Not a failure of berth: the command's own exit status, passed through without a message. */
export class CommandExit extends BerthError {
  override name = 'CommandExit';
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
/** What a terminal's keyboard sends to its whole foreground process group, the command included. */
const KEYBOARD_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT']);

async function runCommand(command: string[], env: Record<string, string | undefined>): Promise<number> {
  const [file, ...args] = command;
  const child = spawn(file!, args, { stdio: 'inherit', env });
  // The command runs in berth's process group. A Ctrl-C at the terminal reaches it directly; sent
  // on as well, it would arrive twice (and a second interrupt means "quit now" to many programs).
  const forward = (signal: NodeJS.Signals) => {
    if (!KEYBOARD_SIGNALS.has(signal) || !inForegroundOfTerminal()) child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => reject(startError(file!, err)));
      child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  }
}

/** 127 for a command not found and 126 for one that cannot be run, as shells, env and docker run say. */
function startError(file: string, err: NodeJS.ErrnoException): UsageError {
  if (err.code === 'ENOENT') return new UsageError(`command not found: ${file}`, { exitCode: 127 });
  return new UsageError(`cannot run ${file}: ${err.message}`, { exitCode: 126 });
}

/** 128 + the signal's number, as a shell reports a command a signal ended. */
function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && constants.signals[signal]) || 1;
}

/**
 * Whether this process is in the foreground process group of its controlling terminal (Linux:
 * /proc/self/stat's pgrp and tpgid), where a keyboard signal came to the whole group.
 */
function inForegroundOfTerminal(): boolean {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    const [pgrp, tpgid] = [Number(fields[2]), Number(fields[5])];
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

export function registerExecCommand(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('run a command with the variables of an encrypted env file (never written to disk)')
    // -f too: Node 20 reads an --env-file option itself wherever it appears on its command line,
    // and fails on `-` or a pipe before berth starts
    .requiredOption('-f, --env-file <file>', 'encrypted env file (KEY=VALUE lines), or - for stdin')
    .option(
      '--key-path <path>',
      'key file, tried first; then BERTH_AES_KEY, ./berth.aes, ./codeship.aes (the file names the key it opens with)',
    )
    .argument('<command...>', 'the command and its arguments (after --)')
    .addHelpText(
      'after',
      '\nExamples:\n  berth exec --env-file env.encrypted -- ./deploy.sh production\n  curl -fsS "$ENV_URL" | berth exec -f - -- ./deploy.sh\n',
    )
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
