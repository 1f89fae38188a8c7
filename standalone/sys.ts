/**
 * @module
 * core/io/sys.ts as the standalone executable has it (build-standalone.mjs compiles this module in
 * its place): the same calls made with Bun's own file, stdin and stdout objects, so a `get` never
 * loads node:fs. Errors carry the same `code`s (ENOENT, EACCES, EISDIR, EPIPE).
 */
import { UsageError } from '../core/errors.js';
import type * as NodeSys from '../core/io/sys.js';
import { DEFAULT_INPUT_LIMIT, DEFAULT_INPUT_TIMEOUT_MS, decodeUtf8, type InputOptions, stdinErrors } from '../core/io/stdin.js';

interface BunFile {
  bytes(): Promise<Uint8Array>;
  stream(): ReadableStream<Uint8Array>;
}
interface BunRuntime {
  file(path: string): BunFile;
  mmap(path: string): Uint8Array;
  stdin: BunFile;
  stdout: unknown;
  stderr: unknown;
  write(destination: unknown, data: string): Promise<number>;
}
declare const Bun: BunRuntime;
declare const require: (id: string) => unknown;

/**
 * A regular file is mapped and copied at once, on this thread (Bun.file reads on a worker thread,
 * a hop per file); an empty file cannot be mapped (EINVAL), anything else that cannot (a FIFO, a
 * device) is read through Bun.file.
 */
export const readFileIfExists: typeof NodeSys.readFileIfExists = async (path) => {
  try {
    return Buffer.from(Bun.mmap(path));
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR' || code === 'EACCES' || code === 'ENOTDIR' || code === 'ELOOP') throw err;
  }
  try {
    const bytes = await Bun.file(path).bytes();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

/**
 * Mapping the path tells the cases apart on this thread, without loading node:fs (Bun's stat does)
 * and without a hop to a worker: opening a socket fails with ENXIO and a FIFO or an empty file
 * cannot be mapped (EINVAL), so something is there; a missing path says ENOENT or ENOTDIR. The open
 * does not wait for a FIFO's writer, and nothing is read.
 */
export const pathProblem: typeof NodeSys.pathProblem = async (path) => {
  try {
    Bun.mmap(path);
    return undefined;
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP' || code === 'ENAMETOOLONG'
      ? (err as NodeJS.ErrnoException)
      : undefined;
  }
};

export const homedir: typeof NodeSys.homedir = () => (require('node:os') as typeof import('node:os')).homedir();

/** Every write not yet done; writesDone waits for them. */
const pending: Promise<unknown>[] = [];

/** Queued in order on Bun's writer, which finishes before the process exits. */
export const writeOut: typeof NodeSys.writeOut = (fd, text) => {
  pending.push(Bun.write(fd === 1 ? Bun.stdout : Bun.stderr, text));
};

/** A reader that went away (EPIPE) is not an error of ours; any other failure (ENOSPC) is thrown. */
export const writesDone: typeof NodeSys.writesDone = async () => {
  for (const write of pending.splice(0)) {
    await write.catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
};

export const readStandardInput: typeof NodeSys.readStandardInput = async ({
  limit = DEFAULT_INPUT_LIMIT,
  timeoutMs = DEFAULT_INPUT_TIMEOUT_MS,
}: InputOptions = {}) => {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = Bun.stdin.stream().getReader();
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'EISDIR' ? stdinErrors.directory() : stdinErrors.unreadable(err as Error);
  }
  // The clock starts after one turn of the event loop, and only if the input has not ended by then:
  // a client that wrote its input and closed the pipe (docker does) is answered without a timer,
  // which costs this runtime more than the read. At the deadline the read is cancelled.
  let reading = true;
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  setImmediate(() => {
    if (!reading) return;
    timer = setTimeout(() => {
      expired = true;
      reader.cancel().catch(() => undefined);
    }, timeoutMs);
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (expired) throw stdinErrors.timedOut(timeoutMs);
      if (done) break;
      size += value.length;
      if (size > limit) throw stdinErrors.tooLarge(limit);
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => undefined);
    if (err instanceof UsageError) throw err;
    // a read the deadline cancelled may reject rather than end
    throw expired ? stdinErrors.timedOut(timeoutMs) : stdinErrors.unreadable(err as Error);
  } finally {
    reading = false;
    clearTimeout(timer);
  }
  return decodeUtf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
};
