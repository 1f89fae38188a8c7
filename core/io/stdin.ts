/**
 * @module
 * Bounded, time-limited reads of standard input. The reference helpers stop at 64 KiB and wait
 * forever on a terminal; berth accepts any realistic size, refuses more than `limit` with one clear
 * line, and gives up after `timeoutMs` of silence.
 */
import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats } from 'node:fs';
import { UsageError } from '../errors.js';

export const DEFAULT_INPUT_LIMIT = 1024 * 1024;
export const DEFAULT_INPUT_TIMEOUT_MS = 30_000;

export async function readAll(
  input: NodeJS.ReadableStream,
  { limit = DEFAULT_INPUT_LIMIT, timeoutMs = DEFAULT_INPUT_TIMEOUT_MS } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined) => {
      clearTimeout(timer);
      input.off('data', onData).off('end', onEnd).off('error', onError);
      if (typeof input.pause === 'function') input.pause();
      if (err) reject(err);
      else {
        try {
          resolve(decodeUtf8(Buffer.concat(chunks)));
        } catch (decodeError) {
          reject(decodeError);
        }
      }
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        finish(new UsageError(`input too large: more than ${limit} bytes on stdin`));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error) => finish(new UsageError(`cannot read stdin: ${err.message}`));
    const timer = setTimeout(() => finish(new UsageError(`timed out after ${timeoutMs / 1000}s waiting for stdin`)), timeoutMs);
    timer.unref();
    input.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/**
 * Strict UTF-8: a secret with bytes that are not UTF-8 would otherwise be stored with U+FFFD in
 * their place, and the next login would fail with no clue why.
 */
export function decodeUtf8(bytes: Uint8Array, source = 'stdin'): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(`${source} is not valid UTF-8 text`, { hint: 'credentials are text; check the encoding of what was piped in' });
  }
}

/**
 * Reads a pipe, socket or file descriptor (the helper's stdin: Go and Python clients give a pipe,
 * node's child_process a socket) to its end, with the same limit and timeout. No stream: creating
 * `process.stdin` loads node:net and node:stream, which cost the helper more start-up than its whole
 * `get` (on the standalone executable, twice that). A file, and a pipe reopened non-blocking through
 * /proc, are read synchronously, which is what a client that has written and closed its end (nearly
 * always, by the time the helper runs) costs least; a pipe that has nothing yet (EAGAIN) is read
 * again a moment later. Anything else that can be reopened no further (a socket) is read on the
 * thread pool. Undefined for a terminal (or anything else): use `readAll(process.stdin)` then.
 */
export function readDescriptor(
  fd: number,
  { limit = DEFAULT_INPUT_LIMIT, timeoutMs = DEFAULT_INPUT_TIMEOUT_MS } = {},
): Promise<string> | undefined {
  let kind: Stats;
  try {
    kind = fstatSync(fd);
  } catch {
    return undefined;
  }
  if (!kind.isFIFO() && !kind.isFile() && !kind.isSocket()) return undefined;
  const source = kind.isFile() ? { fd, own: false } : kind.isFIFO() ? reopenNonBlocking(fd) : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const buffer = Buffer.allocUnsafe(64 * 1024);
    let done = false;
    const finish = (err: Error | undefined) => {
      done = true;
      clearTimeout(timer);
      if (source?.own) closeSync(source.fd);
      if (err) reject(err);
      else {
        try {
          resolve(decodeUtf8(Buffer.concat(chunks)));
        } catch (decodeError) {
          reject(decodeError);
        }
      }
    };
    /** Takes one read's outcome; true when there is more to read. */
    const took = (err: NodeJS.ErrnoException | null, bytesRead: number): boolean => {
      size += bytesRead;
      if (err) finish(new UsageError(`cannot read stdin: ${err.message}`));
      else if (bytesRead === 0) finish(undefined);
      else if (size > limit) finish(new UsageError(`input too large: more than ${limit} bytes on stdin`));
      else {
        chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => finish(new UsageError(`timed out after ${timeoutMs / 1000}s waiting for stdin`)), timeoutMs);
    timer.unref();
    const later = () => {
      if (!done) setTimeout(next, 1);
    };
    const next = (): void => {
      if (done) return;
      if (!source) {
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
      }
    };
    next();
  });
}

/** The pipe behind `fd` opened anew without blocking (its own file description: `fd` is left as it is). */
function reopenNonBlocking(fd: number): { fd: number; own: true } | undefined {
  try {
    return { fd: openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK), own: true };
  } catch {
    return undefined;
  }
}
