/**
 * @module
 * What every `berth` command shares: the context it runs in (env, streams, cwd — injected so tests
 * can drive commands in-process) and how an error reaches the user: `berth: error: …` and
 * `berth: hint: …` on stderr, lower case, one line each, a stack only with `BERTH_DEBUG=1`.
 */
import { BerthError, oneLine } from '../core/errors.js';
import type { Env } from '../core/paths.js';

export interface CliContext {
  env: Env;
  cwd: string;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /**
   * Loads the daemon's code for `berth daemon start`. The standalone executable carries it and passes
   * this; the Node build loads the `berth-daemon.js` bundle beside the CLI instead.
   */
  loadDaemon?: () => Promise<DaemonModule>;
}

export type DaemonModule = typeof import('../daemon/main.js');

export function processContext(): CliContext {
  return { env: process.env, cwd: process.cwd(), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** Prints an error the berth way and returns the exit code. */
export function reportError(err: unknown, ctx: CliContext): number {
  // An error without a message carries only an exit status (`berth exec` passing on its command's).
  if (err instanceof BerthError && err.message === '') return err.exitCode;
  ctx.stderr.write(`berth: error: ${oneLine(err)}\n`);
  if (err instanceof BerthError && err.hint) ctx.stderr.write(`berth: hint: ${err.hint}\n`);
  if (ctx.env.BERTH_DEBUG === '1' && err instanceof Error && err.stack) ctx.stderr.write(`${err.stack}\n`);
  return err instanceof BerthError ? err.exitCode : 1;
}

/** A warning on stderr, same shape as errors. */
export function warn(ctx: CliContext, message: string): void {
  ctx.stderr.write(`berth: warning: ${message}\n`);
}
