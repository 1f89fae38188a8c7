/**
 * @module
 * The calls the helper's hot paths make to the system: read a small file, read standard input to its
 * end, write standard output and error, check that a path is there, find the home directory. They
 * live here so that the standalone executable makes them with its runtime's own calls:
 * build-standalone.mjs compiles standalone/sys.ts in this module's place, because under Bun loading
 * node:fs alone costs a `get` about 0.7 ms and 3 MiB. Both have the same exports (standalone/sys.ts
 * is checked against this module).
 */
import { closeSync, constants, fstatSync, openSync, read, readFileSync, readSync, type Stats, statSync, writeSync } from 'node:fs';
import { homedir as osHomedir } from 'node:os';
import { DEFAULT_INPUT_LIMIT, DEFAULT_INPUT_TIMEOUT_MS, type InputOptions, readAll, settleDecoded, stdinErrors } from './stdin.js';

/** The file's bytes, or undefined when there is no such file; any other failure is thrown as it is. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Why nothing is at `path` (ENOENT, ENOTDIR, EACCES), or undefined when something is there. */
export async function pathProblem(path: string): Promise<NodeJS.ErrnoException | undefined> {
  try {
    statSync(path);
    return undefined;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

/** The user's home directory when HOME is not set. */
export function homedir(): string {
  return osHomedir();
}

/** The first write that failed, for writesDone. */
let failedWrite: Error | undefined;

/**
 * Writes to fd 1 or 2 as it is: what process.stdout does for pipes and files on Linux, without
 * loading node:stream for one line. A reader that went away (EPIPE) is not an error of ours; a
 * non-blocking descriptor that is full (EAGAIN) gets the rest through the stream; any other failure
 * (ENOSPC) is kept for writesDone.
 */
export function writeOut(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(offset));
    else if (code !== 'EPIPE') failedWrite ??= err as Error;
  }
}

/** Resolves once everything writeOut was given is written (here they are synchronous); throws the first failure. */
export async function writesDone(): Promise<void> {
  if (failedWrite) throw failedWrite;
}

/** Standard input to its end, as strict UTF-8, within the limit and the timeout (core/io/stdin.ts). */
export function readStandardInput(options: InputOptions = {}): Promise<string> {
  return readDescriptor(0, options) ?? readAll(process.stdin, options);
}

/**
 * Reads a pipe, socket or file descriptor (the helper's stdin: Go and Python clients give a pipe,
 * node's child_process a socket) to its end, with the same limit and timeout. No stream: creating
 * `process.stdin` loads node:net and node:stream, which cost the helper more start-up than its whole
 * `get`. A file, and a pipe reopened non-blocking through
 * /proc, are read synchronously, which is what a client that has written and closed its end (nearly
 * always, by the time the helper runs) costs least; a pipe that has nothing yet (EAGAIN) is read
 * again a moment later. Anything else that can be reopened no further (a socket) is read on the
 * thread pool. Undefined for a terminal (or anything else): `readAll(process.stdin)` reads that.
 */
function readDescriptor(
  fd: number,
  { limit = DEFAULT_INPUT_LIMIT, timeoutMs = DEFAULT_INPUT_TIMEOUT_MS }: InputOptions = {},
): Promise<string> | undefined {
  let kind: Stats;
  try {
    kind = fstatSync(fd);
  } catch {
    return undefined;
  }
  if (kind.isDirectory()) return Promise.reject(stdinErrors.directory());
  if (!kind.isFIFO() && !kind.isFile() && !kind.isSocket()) return undefined;
  const source = kind.isFile() ? { fd, own: false } : kind.isFIFO() ? reopenNonBlocking(fd) : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const buffer = Buffer.allocUnsafe(64 * 1024);
    let done = false;
    // The deadline is set once there is something to wait for: a client that wrote and closed its
    // end before the helper read it (nearly always) costs no timer at all.
    let timer: NodeJS.Timeout | undefined;
    const waiting = () => {
      timer ??= setTimeout(() => finish(stdinErrors.timedOut(timeoutMs)), timeoutMs).unref();
    };
    const finish = (err: Error | undefined) => {
      done = true;
      clearTimeout(timer);
      if (source?.own) closeSync(source.fd);
      if (err) reject(err);
      else settleDecoded(chunks, resolve, reject);
    };
    /** Takes one read's outcome; true when there is more to read. */
    const took = (err: NodeJS.ErrnoException | null, bytesRead: number): boolean => {
      size += bytesRead;
      if (err) finish(stdinErrors.unreadable(err));
      else if (bytesRead === 0) finish(undefined);
      else if (size > limit) finish(stdinErrors.tooLarge(limit));
      else {
        chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
        return true;
      }
      return false;
    };
    // A pipe with nothing in it yet is read again after 1 ms, then less and less often (up to
    // POLL_MAX_MS apart), so a client that writes late costs little and one that never writes next to no CPU.
    let pollMs = 1;
    const later = () => {
      if (done) return;
      waiting();
      setTimeout(next, pollMs);
      pollMs = Math.min(pollMs * 2, POLL_MAX_MS);
    };
    const next = (): void => {
      if (done) return;
      if (!source) {
        waiting();
        read(fd, buffer, 0, buffer.length, null, (err, bytesRead) => {
          if (err?.code === 'EAGAIN') later();
          else if (took(err, bytesRead)) next();
        });
        return;
      }
      for (;;) {
        let bytesRead: number;
        try {
          bytesRead = readSync(source.fd, buffer, 0, buffer.length, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') later();
          else took(err as NodeJS.ErrnoException, 0);
          return;
        }
        if (!took(null, bytesRead)) return;
        pollMs = 1;
      }
    };
    next();
  });
}

/** The longest wait between two reads of a pipe that has nothing yet. */
const POLL_MAX_MS = 50;

/** The pipe behind `fd` opened anew without blocking (its own file description: `fd` is left as it is). */
function reopenNonBlocking(fd: number): { fd: number; own: true } | undefined {
  try {
    return { fd: openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK), own: true };
  } catch {
    return undefined;
  }
}
