/**
 * @module
 * Encrypted files on disk: read an input, run it through a coder, write an output that appears
 * only when everything succeeded (a temporary file beside the target, renamed at the end), so a
 * failure never leaves partial or plaintext output behind. Reading, sealing and writing overlap: the
 * next piece is read and the previous ones written on the thread pool while the main thread runs
 * the coder (measured here on 512 MiB: writes into the page cache alone take as long as the crypto,
 * so doing them one after another nearly doubled the time). Memory stays bounded: two read buffers
 * and at most WRITE_BEHIND bytes waiting to be written. The loop yields to the event loop between
 * pieces, so a signal can stop it cleanly. stdin and stdout are plain streams. Output that cannot be
 * taken back (stdout, a pipe, a device) can be held until the input has verified (see
 * TransferOptions.holdBytes).
 */
import { closeSync, fstatSync, openSync, read, type Stats, writev } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from '../io/path.js';
import type { Writable } from 'node:stream';
import { BerthError, systemErrorText, UsageError } from '../errors.js';
import { openAtomic, type AtomicFile } from '../io/atomic.js';
import { inFile } from './errors.js';
import type { Coder } from './format.js';
import type { UserKeys } from './header.js';
import type { RekeyChanges, RekeyReport } from './rekey.js';

/**
 * 2 MiB reads: 32 chunks of 64 KiB (or 2 of 1 MiB) per read and per write, so the per-call costs
 * are small beside the crypto, and small enough that reading the next piece overlaps sealing this one.
 */
const READ_SIZE = 2 << 20;
/**
 * Ciphertext (or plaintext) queued for the thread pool to write before the coder waits for it:
 * several reads' worth, so the piece coded now is written while the next is coded. At one read's
 * worth every write waited for the one before it (the main thread sat idle 220 ms of a 512 MiB
 * encrypt, 1.25× age's time; with 8 MiB 40 ms).
 */
const WRITE_BEHIND = 8 << 20;
/** The largest piece streamSink gives a stream at once. */
const STREAM_WRITE_BYTES = 64 << 10;
/** Inputs up to this size are written through a named temporary file (see transformToTemp). */
const SMALL_INPUT_BYTES = 1024 * 1024;

/** The output could not be created or written; nothing was left behind. */
export class OutputError extends BerthError {
  override name = 'OutputError';
}

function outputError(target: string, err: unknown): OutputError {
  return new OutputError(`cannot write ${target}: ${systemErrorText(err)}`, { cause: err });
}

/** A collection to run every `everyBytes` of input. */
interface Collector {
  everyBytes: number;
  collect(): void;
}

/**
 * A minor collection, callable from here. Every chunk node:crypto returns is a fresh buffer outside
 * V8's heap, and V8 reclaims those only after about 64 MiB of them pile up, so streaming a large
 * file would hold RSS near 100 MiB. They die young, so a scavenge every 8 MiB frees them (RSS
 * stays near 80 MiB) for a fraction of a millisecond each, and lets malloc reuse warm pages. Every
 * 4 MiB held RSS near 65 MiB but cost 50 ms of a 512 MiB encrypt's 450 (every 16 MiB: near 90 MiB).
 */
async function collector(): Promise<Collector> {
  keepFreedPages();
  const [{ setFlagsFromString }, { runInNewContext }] = await Promise.all([import('node:v8'), import('node:vm')]);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
    return { everyBytes: 8 << 20, collect: () => gc({ type: 'minor' }) };
  } catch {
    return jscCollector();
  }
}

/**
 * The standalone binary runs on JavaScriptCore, whose asynchronous collection (`Bun.gc(false)`)
 * let the crypto buffers of a 512 MiB decrypt pile up to 130 MiB of RSS. `Bun.gc(true)` frees them
 * but then every later buffer faults in fresh pages (minor faults 24,000 → 128,000, 0.35 s → 0.6 s).
 * bun:jsc's fullGC every 8 MiB holds RSS near 87 MiB with 11,000 faults, for about 0.15 s of CPU
 * per 512 MiB (every 16 MiB costs half that but peaks near 100 MiB).
 */
function jscCollector(): Collector {
  const runtime = process as { getBuiltinModule?: (id: string) => unknown };
  const jsc = runtime.getBuiltinModule?.('bun:jsc') as { fullGC?: () => void } | undefined;
  const fullGC = jsc?.fullGC;
  if (typeof fullGC === 'function') return { everyBytes: 8 << 20, collect: () => fullGC() };
  return { everyBytes: Number.POSITIVE_INFINITY, collect: () => undefined };
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
 * A file read ahead into two buffers that take turns: while the caller codes one piece, the next is
 * read on the thread pool. Coders copy what they keep (see Coder), so a buffer can be refilled as
 * soon as the caller asks for the piece after it; reading into the same warm pages avoids a page
 * fault per 4 KiB read.
 */
class FileSource implements AsyncIterable<Buffer> {
  constructor(
    private fd: number,
    private readonly path: string,
    /** The input's size when opened (a regular file's; 0 for a pipe or device). */
    readonly size: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    // A regular file smaller than a read fits one buffer with a byte to spare (the next read says EOF).
    const bufferSize = this.size > 0 && this.size < READ_SIZE ? this.size + 1 : READ_SIZE;
    const buffers = [Buffer.allocUnsafeSlow(bufferSize), Buffer.allocUnsafeSlow(bufferSize)];
    let next: Promise<number> | undefined;
    try {
      let turn = 0;
      next = this.read(buffers[0]!);
      for (;;) {
        const bytesRead = await next;
        if (bytesRead === 0) return;
        const piece = buffers[turn]!.subarray(0, bytesRead);
        turn ^= 1;
        next = this.read(buffers[turn]!);
        next.catch(() => undefined); // awaited on the next turn; do not let it go unhandled meanwhile
        yield piece;
      }
    } finally {
      await next?.catch(() => undefined); // a read in flight must not land on a closed descriptor
      this.close();
    }
  }

  /** Closes the file; safe to call again, and before or without reading. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private read(buffer: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      read(this.fd, buffer, 0, buffer.length, null, (err, bytesRead) => {
        if (err) reject(new UsageError(`cannot read ${this.path}: ${systemErrorText(err)}`, { cause: err }));
        else resolve(bytesRead);
      });
    });
  }
}

/** Opens a file for reading, failing with one line that names it. */
export async function openSource(path: string): Promise<AsyncIterable<Buffer>> {
  let fd: number;
  let info: Stats;
  try {
    fd = openSync(path, 'r');
    info = fstatSync(fd);
    if (info.isDirectory()) {
      closeSync(fd);
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${systemErrorText(err)}`, { cause: err });
  }
  return new FileSource(fd, path, info.isFile() ? info.size : 0);
}

/** Bytes to encrypt or decrypt: a file (see openSource) or a stream such as stdin. */
export type Source = Iterable<Buffer> | AsyncIterable<Buffer>;

/** Where output goes: `write` returns once the sink can take more; `flush` once all is written. */
interface Sink {
  write(pieces: Buffer[]): Promise<void>;
  flush(): Promise<void>;
}

/**
 * Writes to a descriptor behind the caller, on the thread pool, in order, all of every piece (writev
 * may stop short). `write` returns at once while less than WRITE_BEHIND bytes wait; the first error
 * is kept and thrown by the next `write` or `flush`.
 */
function descriptorSink(fd: number, target: string): Sink {
  let pending = 0;
  let failure: unknown;
  let tail: Promise<void> = Promise.resolve();
  const waiters: (() => void)[] = [];
  const writeAll = async (pieces: Buffer[]) => {
    const rest = pieces;
    while (rest.length > 0 && failure === undefined) {
      let written = await writevOnce(fd, rest);
      while (rest.length > 0 && written >= rest[0]!.length) written -= rest.shift()!.length;
      if (written > 0) rest[0] = rest[0]!.subarray(written);
    }
  };
  const check = () => {
    if (failure !== undefined) throw outputError(target, failure);
  };
  return {
    async write(pieces) {
      check();
      const rest = pieces.filter((piece) => piece.length > 0);
      const size = rest.reduce((sum, piece) => sum + piece.length, 0);
      if (size === 0) return;
      pending += size;
      tail = tail
        .then(() => writeAll(rest))
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => {
          pending -= size;
          while (waiters.length > 0 && pending < WRITE_BEHIND) waiters.shift()!();
        });
      while (pending >= WRITE_BEHIND && failure === undefined) await new Promise<void>((wake) => waiters.push(wake));
      check();
    },
    async flush() {
      await tail;
      check();
    },
  };
}

function writevOnce(fd: number, pieces: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    writev(fd, pieces, (err, written) => (err ? reject(err) : resolve(written)));
  });
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
      // In pieces of at most 64 KiB: the executable's runtime holds a copy of every larger one
      // written to a pipe (decrypting 1 MiB chunks to a pipe took 120 MiB instead of 80).
      for (const piece of pieces) {
        for (let at = 0; at < piece.length && failure === undefined; at += STREAM_WRITE_BYTES) {
          full = !output.write(piece.subarray(at, at + STREAM_WRITE_BYTES));
        }
      }
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
  /**
   * For output that cannot be taken back (stdout, a pipe, a device): hold up to this many bytes
   * until the coder has ended, so a file that fails at its last chunk releases nothing. Output
   * beyond it streams as it is verified, chunk by chunk. 0 (the default) holds nothing.
   */
  holdBytes?: number;
}

/** Decrypting to a stream or device holds this much output until the file has verified. */
export const HOLD_BYTES = 16 * 1024 * 1024;

/** Keeps pieces back until `limit` bytes would be exceeded or the transfer ends without error. */
function holdingSink(inner: Sink, limit: number): Sink {
  if (limit <= 0) return inner;
  let held: Buffer[] | undefined = [];
  let size = 0;
  return {
    async write(pieces) {
      if (!held) return inner.write(pieces);
      // Coders' output never aliases their input, so pieces may be kept as they are.
      held.push(...pieces);
      size += pieces.reduce((sum, piece) => sum + piece.length, 0);
      if (size > limit) {
        const release = held;
        held = undefined;
        await inner.write(release);
      }
    },
    async flush() {
      if (held) {
        const release = held;
        held = undefined;
        await inner.write(release);
      }
      await inner.flush();
    },
  };
}

/** Runs every byte of `source` through `coder` into `sink`, collecting crypto buffers as it goes. */
async function pump(source: Source, coder: Coder, sink: Sink, { signal }: TransferOptions): Promise<void> {
  // Set up once the first 4 MiB have gone through: a small file needs no collections, and setting
  // them up costs more than a small file's whole transfer.
  let gc: Collector | undefined;
  let sinceCollect = 0;
  for await (const data of source) {
    if (signal?.aborted) throw new InterruptedError();
    await sink.write(coder.write(data));
    sinceCollect += data.length;
    if (sinceCollect >= (gc?.everyBytes ?? 4 << 20)) {
      sinceCollect = 0;
      gc ??= await collector();
      gc.collect();
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
    // Anonymous: a process killed mid-write leaves no partial (plaintext) file behind. A small file
    // from a regular input is written in a moment and renamed at once, so it keeps the named
    // temporary file (a leftover is removed by the next write there) and skips the `ln` process the
    // commit of an anonymous file costs: `berth decrypt` of a credentials file is on every CI build.
    // So is a small input already in memory (a file decrypted in one piece).
    const small =
      (source instanceof FileSource && source.size > 0 && source.size <= SMALL_INPUT_BYTES) ||
      (Array.isArray(source) && source.reduce((total: number, piece: Buffer) => total + piece.length, 0) <= SMALL_INPUT_BYTES);
    file = await openAtomic(target, { mode, sync: options.sync ?? true, anonymous: !small });
  } catch (err) {
    if (source instanceof FileSource) source.close();
    throw outputError(target, err);
  }
  const sink = descriptorSink(file.fd, target);
  try {
    await pump(source, coder, file.direct ? holdingSink(sink, options.holdBytes ?? 0) : sink, options);
    return file;
  } catch (err) {
    await sink.flush().catch(() => undefined); // no write may still be in flight when the file goes
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
  await pump(source, coder, holdingSink(streamSink(output, 'standard output'), options.holdBytes ?? 0), options);
}

/**
 * Rekeys each file in place. Every new file is prepared first; only if all succeed are they
 * renamed over the originals, so a bad key or a broken file leaves every file as it was.
 */
export async function rekeyFiles(
  names: readonly string[],
  oldKey: UserKeys,
  changes: RekeyChanges,
  { cwd, signal }: { cwd: string } & TransferOptions,
): Promise<{ path: string; report: RekeyReport }[]> {
  const { Rekeyer } = await import('./rekey.js'); // here: decrypt and encrypt never load the header's crypto for it
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
