/**
 * @module
 * Runs an external command (`pass`, and through it `gpg`) with a deadline. Secrets travel on stdin,
 * never on argv, where any user could read them in `ps`. The command runs in its own process group
 * so a timeout also ends the grandchildren (`pass` starts `gpg`, which may wait on a pinentry that
 * nobody will answer); killing only the direct child would leave its pipes open and the caller
 * waiting anyway.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  timeoutMs: number;
  /** Output beyond this many bytes per stream is an error, not a memory blow-up. */
  maxOutput?: number;
}

export interface RunResult {
  /** The exit code, or null when the command was ended by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command could not be started at all (ENOENT: not installed, EACCES: not executable). */
export class CommandNotStartedError extends Error {
  override name = 'CommandNotStartedError';
  constructor(
    readonly command: string,
    readonly code: string | undefined,
    options: { cause: unknown },
  ) {
    super(`cannot run ${command}: ${code ?? 'unknown error'}`, options);
  }
}

/** The command ran past its deadline and was killed. */
export class CommandTimeoutError extends Error {
  override name = 'CommandTimeoutError';
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly stderr: string,
  ) {
    super(`${command} did not finish within ${timeoutMs / 1000}s`);
  }
}

const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;

export function runCommand(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: definedOnly(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    const limit = options.maxOutput ?? DEFAULT_MAX_OUTPUT;
    const stdout = collect(child.stdout, limit, () => killGroup(child.pid));
    const stderr = collect(child.stderr, limit, () => killGroup(child.pid));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new CommandNotStartedError(command, err.code, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new CommandTimeoutError(command, options.timeoutMs, stderr.text()));
      else resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
    });
    // A command that exits without reading its input makes the write fail with EPIPE: the exit code
    // already tells the story, so the write error itself is not interesting.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

function collect(stream: NodeJS.ReadableStream, limit: number, onOverflow: () => void): { text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) onOverflow();
    else chunks.push(chunk);
  });
  return { text: () => Buffer.concat(chunks).toString('utf8') };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    // A negative pid signals the whole group the detached child leads.
    process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL');
  } catch {
    // Already gone: nothing left to end.
  }
}

function definedOnly(env: RunOptions['env']): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}
