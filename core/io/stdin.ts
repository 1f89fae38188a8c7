/**
 * @module
 * Bounded, time-limited reads of standard input. The reference helpers stop at 64 KiB and wait
 * forever on a terminal; berth accepts any realistic size, refuses more than `limit` with one clear
 * line, and gives up after `timeoutMs` of silence. The helper reads its stdin without a stream
 * (core/io/sys.ts); this is the stream path, for the CLI and a terminal.
 */
import { UsageError } from '../errors.js';

export const DEFAULT_INPUT_LIMIT = 1024 * 1024;
export const DEFAULT_INPUT_TIMEOUT_MS = 30_000;

/** How reading stdin fails, worded once for every reader (this one, core/io/sys.ts, standalone/sys.ts). */
export const stdinErrors = {
  tooLarge: (limit: number) => new UsageError(`input too large: more than ${limit} bytes on stdin`),
  timedOut: (timeoutMs: number) => new UsageError(`timed out after ${timeoutMs / 1000}s waiting for stdin`),
  unreadable: (err: Error) => new UsageError(`cannot read stdin: ${err.message}`),
  directory: () => new UsageError('cannot read stdin: it is a directory'),
};

export interface InputOptions {
  limit?: number;
  timeoutMs?: number;
}

export async function readAll(
  input: NodeJS.ReadableStream,
  { limit = DEFAULT_INPUT_LIMIT, timeoutMs = DEFAULT_INPUT_TIMEOUT_MS }: InputOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined) => {
      clearTimeout(timer);
      input.off('data', onData).off('end', onEnd).off('error', onError);
      if (typeof input.pause === 'function') input.pause();
      if (err) reject(err);
      else settleDecoded(chunks, resolve, reject);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        finish(stdinErrors.tooLarge(limit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error) => finish(stdinErrors.unreadable(err));
    const timer = setTimeout(() => finish(stdinErrors.timedOut(timeoutMs)), timeoutMs);
    timer.unref();
    input.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Settles a reader's promise with what it read, as strict UTF-8 (or with why it is not). */
export function settleDecoded(chunks: readonly Uint8Array[], resolve: (text: string) => void, reject: (err: unknown) => void): void {
  try {
    resolve(decodeUtf8(Buffer.concat(chunks)));
  } catch (err) {
    reject(err);
  }
}

const SHORT_INPUT_BYTES = 4096;

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/**
 * Strict UTF-8: a secret with bytes that are not UTF-8 would otherwise be stored with U+FFFD in
 * their place, and the next login would fail with no clue why.
 */
export function decodeUtf8(bytes: Uint8Array, source = 'stdin'): string {
  // A short ASCII input (a server URL) is UTF-8 as it is: a first TextDecoder costs node a fraction
  // of a millisecond, and node:buffer's isAscii costs the standalone executable as much to load.
  if (bytes.length <= SHORT_INPUT_BYTES && isAscii(bytes))
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(`${source} is not valid UTF-8 text`, { hint: 'credentials are text; check the encoding of what was piped in' });
  }
}
