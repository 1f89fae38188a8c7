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

/**
 * The running process as a context. The standard streams are made on first use: creating one loads
 * node:stream, which `berth decrypt` to a file never needs. A reader that stops early (`berth help
 * registries | head -3`) closes the pipe: that is not an error, and no stack trace should follow.
 */
export function processContext(extra: Pick<CliContext, 'loadDaemon'> = {}): CliContext {
  // The AWS SDK warns on stderr about Node versions it will drop (`berth generate`, the daemon); its
  // documented switch silences only that warning, and the SDK reads only process.env.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    env: process.env,
    cwd: process.cwd(),
    ...(process.argv[1] ? { programPath: process.argv[1] } : {}),
    ...extra,
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return endOnEpipe(process.stdout);
    },
    get stderr() {
      return endOnEpipe(process.stderr);
    },
  };
}

const watched = new WeakSet<NodeJS.WriteStream>();

function endOnEpipe(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (watched.has(stream)) return stream;
  watched.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  return stream;
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
