/**
 * @module
 * What every `berth` command shares: the context it runs in (env, streams, cwd — injected so tests
 * can drive commands in-process) and how a message reaches the user (core/io/messages.ts).
 */
import { messages, type Messages } from '../core/io/messages.js';
import type { Env } from '../core/paths.js';

export interface CliContext {
  env: Env;
  cwd: string;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** This program's file (`process.argv[1]`): to start the daemon from, or find `berth.js` beside. */
  programPath?: string;
  /**
   * Loads the daemon's code for `berth daemon start`. The standalone executable carries it and passes
   * this; the Node build loads the `berth-daemon.js` bundle beside the CLI instead.
   */
  loadDaemon?: () => Promise<DaemonModule>;
}

export type DaemonModule = typeof import('../daemon/main.js');

export function processContext(): CliContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    ...(process.argv[1] ? { programPath: process.argv[1] } : {}),
  };
}

/** The printer for this command's stderr. */
export function say(ctx: CliContext): Messages {
  return messages(ctx.stderr, ctx.env);
}

/** Prints an error the berth way and returns the exit code. */
export function reportError(err: unknown, ctx: CliContext): number {
  return say(ctx).error(err);
}

/** A warning on stderr, same shape as errors. */
export function warn(ctx: CliContext, message: string): void {
  say(ctx).warning(message);
}
