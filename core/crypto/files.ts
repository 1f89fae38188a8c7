/**
 * @module
 * Encrypted files on disk: read an input, run it through a coder, write an output that appears
 * only when everything succeeded (a temporary file beside the target, renamed at the end), so a
 * failure never leaves partial or plaintext output behind. Files are read and written with
 * synchronous calls on the main thread: measured here, reading ahead and writing behind on the
 * thread pool (1 MiB at a time) took about 20 % more CPU and was no faster on a busy machine. The
 * loop yields to the event loop every few MiB so a signal can stop it cleanly. stdin and stdout are
 * plain streams.
 */
import { closeSync, fstatSync, openSync, readSync, writevSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BerthError, UsageError } from '../errors.js';
import { openAtomic, type AtomicFile } from '../io/atomic.js';
import { inFile } from './errors.js';
import type { Coder } from './format.js';
import { Rekeyer, type RekeyChanges, type RekeyReport } from './rekey.js';

/**
 * 1 MiB reads: 16 chunks per read and per write, so the per-call costs are small beside the crypto
 * (measured here: about 15 % less time than 256 KiB reads for a 1 GiB file).
 */
const READ_SIZE = 1 << 20;
/** Bytes between forced collections (see collector()) and between yields to the event loop. */
const COLLECT_EVERY = 4 << 20;

/** The output could not be created or written; nothing was left behind. */
export class OutputError extends BerthError {
  override name = 'OutputError';
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
    EEXIST: 'a parent is not a directory',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
  };
  return (code && known[code]) || (err as Error).message;
}

function outputError(target: string, err: unknown): OutputError {
  return new OutputError(`cannot write ${target}: ${reason(err)}`, { cause: err });
}

/**
 * A minor collection, callable from here. Every chunk node:crypto returns is a fresh buffer outside
 * V8's heap, and V8 reclaims those only after about 64 MiB of them pile up, so streaming a large
 * file would hold RSS near 100 MiB. They die young, so a scavenge every few MiB frees them (RSS
 * stays near 60 MiB) for a fraction of a millisecond each, and lets malloc reuse warm pages.
 */
function collector(): () => void {
  keepFreedPages();
  // The standalone executable runs on Bun (JavaScriptCore): no V8 flags, its own collector call.
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) return () => bun.gc(false);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  return () => gc({ type: 'minor' });
}

/**
 * Makes glibc's malloc keep freed memory for reuse instead of returning it to the kernel at once.
 * The buffers node:crypto returns come from the malloc heap; each collection frees a few MiB of
 * them at its top, which malloc trims away (default threshold 128 KiB), so the next chunks fault in
 * fresh zeroed pages: measured here, a quarter of the CPU time for a large file (minor faults of a
 * 1 GiB encrypt: 35,000–50,000, with this 7,000). Freeing one large mapped block raises the
 * threshold to twice its size (glibc's dynamic mmap threshold); this buffer is dropped at once and
 * freed by the first collection. Elsewhere than glibc it is a 16 MiB allocation and no more.
 */
function keepFreedPages(): void {
  void Buffer.allocUnsafeSlow(16 << 20);
}

/**
 * A file read into one 1 MiB buffer, refilled for every piece: coders copy what they keep (see
 * Coder), and reading into the same warm pages avoids a page fault per 4 KiB read.
 */
class FileSource implements Iterable<Buffer> {
  constructor(
    private fd: number,
    private readonly path: string,
  ) {}

  *[Symbol.iterator](): Generator<Buffer> {
    const buffer = Buffer.allocUnsafeSlow(READ_SIZE);
    try {
      for (;;) {
        const bytesRead = this.read(buffer);
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      this.close();
    }
  }

  /** Closes the file; safe to call again, and before or without reading. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private read(buffer: Buffer): number {
    try {
      return readSync(this.fd, buffer, 0, READ_SIZE, null);
    } catch (err) {
      throw new UsageError(`cannot read ${this.path}: ${reason(err)}`, { cause: err });
    }
  }
}

/** Opens a file for reading, failing with one line that names it. */
export async function openSource(path: string): Promise<Iterable<Buffer>> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${reason(err)}`, { cause: err });
  }
  return new FileSource(fd, path);
}

/** Bytes to encrypt or decrypt: a file (see openSource) or a stream such as stdin. */
export type Source = Iterable<Buffer> | AsyncIterable<Buffer>;

/** Where output goes: `write` returns once the sink can take more; `flush` once all is written. */
interface Sink {
  write(pieces: Buffer[]): Promise<void>;
  flush(): Promise<void>;
}

/** Writes to a descriptor synchronously, all of every piece (writev may stop short). */
function descriptorSink(fd: number, target: string): Sink {
  return {
    async write(pieces) {
      const rest = pieces.filter((piece) => piece.length > 0);
      try {
        while (rest.length > 0) {
          let written = writevSync(fd, rest);
          while (rest.length > 0 && written >= rest[0]!.length) written -= rest.shift()!.length;
          if (written > 0) rest[0] = rest[0]!.subarray(written);
        }
      } catch (err) {
        throw outputError(target, err);
      }
    },
    flush: async () => undefined,
  };
}

/** Writes to a stream such as stdout with backpressure, failing on the first write error. */
function streamSink(output: Writable, target: string): Sink {
  let failure: Error | undefined;
  output.on('error', (err: Error) => {
    failure ??= err;
  });
  const drained = () =>
    new Promise<void>((done) => {
      const settle = () => {
        output.off('drain', settle).off('close', settle).off('error', settle);
        done();
      };
      output.on('drain', settle).on('close', settle).on('error', settle);
    });
  return {
    async write(pieces) {
      let full = false;
      for (const piece of pieces) if (failure === undefined) full = !output.write(piece);
      if (full && failure === undefined) await drained();
      if (failure) throw outputError(target, failure);
    },
    async flush() {
      if (failure) throw outputError(target, failure);
    },
  };
}

/** Stops a transfer: the SIGINT/SIGTERM handler of the CLI aborts with this. */
export class InterruptedError extends BerthError {
  override name = 'InterruptedError';
  constructor() {
    super('interrupted; no output was written', { exitCode: 130 });
  }
}

export interface TransferOptions {
  /** Aborting stops the transfer at the next yield (every few MiB) and removes the temporary file. */
  signal?: AbortSignal | undefined;
  /** fsync the output before renaming it into place (default true); see AtomicOptions.sync. */
  sync?: boolean;
}

/** Runs every byte of `source` through `coder` into `sink`, collecting crypto buffers as it goes. */
async function pump(source: Source, coder: Coder, sink: Sink, { signal }: TransferOptions): Promise<void> {
  const collect = collector();
  let sinceCollect = 0;
  for await (const data of source) {
    if (signal?.aborted) throw new InterruptedError();
    await sink.write(coder.write(data));
    sinceCollect += data.length;
    if (sinceCollect >= COLLECT_EVERY) {
      sinceCollect = 0;
      collect();
      await new Promise<void>((resolve) => setImmediate(resolve)); // let signal handlers run
    }
  }
  if (signal?.aborted) throw new InterruptedError();
  await sink.write(coder.end());
  await sink.flush();
}

/** Runs `source` through `coder` into `target` atomically with `mode`. */
export async function transformToFile(
  source: Source,
  coder: Coder,
  target: string,
  mode: number,
  options: TransferOptions = {},
): Promise<void> {
  const file = await transformToTemp(source, coder, target, mode, options);
  await commitOrAbort(file, target);
}

/**
 * Like transformToFile but leaves the temporary file uncommitted, so several files can be prepared
 * and then renamed together (or all abandoned).
 */
export async function transformToTemp(
  source: Source,
  coder: Coder,
  target: string,
  mode: number,
  options: TransferOptions = {},
): Promise<AtomicFile> {
  let file: AtomicFile;
  try {
    file = await openAtomic(target, { mode, sync: options.sync ?? true });
  } catch (err) {
    if (source instanceof FileSource) source.close();
    throw outputError(target, err);
  }
  try {
    await pump(source, coder, descriptorSink(file.fd, target), options);
    return file;
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** Renames the temporary file over the target; on failure removes it and names the target. */
export async function commitOrAbort(file: AtomicFile, target: string): Promise<void> {
  try {
    await file.commit();
  } catch (err) {
    await file.abort();
    throw outputError(target, err);
  }
}

/** Runs `source` through `coder` to an open stream such as stdout (which is not ended). */
export async function transformToStream(source: Source, coder: Coder, output: Writable, options: TransferOptions = {}): Promise<void> {
  await pump(source, coder, streamSink(output, 'standard output'), options);
}

/**
 * Rekeys each file in place. Every new file is prepared first; only if all succeed are they
 * renamed over the originals, so a bad key or a broken file leaves every file as it was.
 */
export async function rekeyFiles(
  names: readonly string[],
  oldKey: Uint8Array,
  changes: RekeyChanges,
  { cwd = process.cwd(), signal }: { cwd?: string } & TransferOptions = {},
): Promise<{ path: string; report: RekeyReport }[]> {
  const prepared: { path: string; file: AtomicFile; report: RekeyReport }[] = [];
  try {
    for (const name of names) {
      const path = resolve(cwd, name);
      const mode = (await stat(path).catch(() => undefined))?.mode ?? 0o644;
      const rekeyer = new Rekeyer(oldKey, changes);
      const file = await transformToTemp(await openSource(path), rekeyer, path, mode & 0o777, { signal }).catch((err: Error) => {
        throw inFile(err, name);
      });
      prepared.push({ path: name, file, report: rekeyer.report });
    }
  } catch (err) {
    await Promise.all(prepared.map(({ file }) => file.abort()));
    throw err;
  }
  for (const { path, file } of prepared) await commitOrAbort(file, resolve(cwd, path));
  return prepared.map(({ path, report }) => ({ path, report }));
}
