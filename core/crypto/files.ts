/**
 * @module
 * Encrypted files on disk: open an input, stream it through a coder into an output that appears
 * only when everything succeeded (a temporary file beside the target, renamed at the end), so a
 * failure never leaves partial or plaintext output behind. `-` is for stdin/stdout in the CLI.
 */
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, UsageError } from '../errors.js';
import { openAtomic, type AtomicFile } from '../fs/atomic.js';
import { inFile } from './errors.js';
import { coderStream } from './format.js';
import { Rekeyer, type RekeyChanges, type RekeyReport } from './rekey.js';

/** Large reads keep 64 KiB chunks within one buffer (no copying) and cut per-read overhead. */
const READ_SIZE = 1 << 20;

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

export async function openInput(path: string): Promise<Readable> {
  try {
    const handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return handle.createReadStream({ highWaterMark: READ_SIZE });
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${reason(err)}`, { cause: err });
  }
}

/** Resolves when `sink` can take more (or will never: closed or failed). */
function drained(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    sink.on('drain', done).on('close', done).on('error', done);
  });
}

/** Bytes streamed between forced collections; see collector(). */
const COLLECT_EVERY = 4 << 20;

/**
 * A full garbage collection, callable from here. Every chunk node:crypto returns is a fresh buffer
 * outside V8's heap, and V8 collects those only after about 64 MiB of them pile up, so streaming a
 * large file would hold RSS near 100 MiB. Collecting every few MiB keeps it near 60 MiB for about
 * a millisecond each time (measured on a 1 GiB file: no throughput change within noise).
 */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Copies `source` into `sink` with backpressure, failing on the first write error. */
async function drainInto(source: AsyncIterable<Buffer>, sink: Writable, target: string): Promise<void> {
  const collect = collector();
  let sinceCollect = 0;
  let writeError: Error | undefined;
  const onError = (err: Error) => {
    writeError ??= err;
  };
  sink.on('error', onError);
  try {
    for await (const chunk of source) {
      if (writeError) break;
      if (!sink.write(chunk)) await drained(sink);
      sinceCollect += chunk.length;
      if (sinceCollect >= COLLECT_EVERY) {
        sinceCollect = 0;
        collect();
      }
    }
  } finally {
    sink.off('error', onError);
  }
  if (writeError) throw outputError(target, writeError);
}

/**
 * Streams `input` through `transform` into `target` atomically with `mode`. Coder errors pass
 * through unchanged; failures to create or write the output become OutputError.
 */
export async function transformToFile(input: Readable, transform: Transform, target: string, mode: number): Promise<void> {
  const file = await transformToTemp(input, transform, target, mode);
  await commitOrAbort(file, target);
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

/**
 * Like transformToFile but leaves the temporary file uncommitted, so several files can be prepared
 * and then renamed together (or all abandoned).
 */
export async function transformToTemp(input: Readable, transform: Transform, target: string, mode: number): Promise<AtomicFile> {
  let file: AtomicFile;
  try {
    file = await openAtomic(target, { mode });
  } catch (err) {
    input.destroy(); // closes its file now rather than at garbage collection
    throw outputError(target, err);
  }
  try {
    await pipeline(input, transform, (source: AsyncIterable<Buffer>) => drainInto(source, file.stream, target));
    return file;
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** Streams `input` through `transform` to an open stream such as stdout (which is not ended). */
export async function transformToStream(input: Readable, transform: Transform, output: Writable): Promise<void> {
  await pipeline(input, transform, (source: AsyncIterable<Buffer>) => drainInto(source, output, 'standard output'));
}

/**
 * Rekeys each file in place. Every new file is prepared first; only if all succeed are they
 * renamed over the originals, so a bad key or a broken file leaves every file as it was.
 */
export async function rekeyFiles(
  names: readonly string[],
  oldKey: Uint8Array,
  changes: RekeyChanges,
  { cwd = process.cwd() }: { cwd?: string } = {},
): Promise<{ path: string; report: RekeyReport }[]> {
  const prepared: { path: string; file: AtomicFile; report: RekeyReport }[] = [];
  try {
    for (const name of names) {
      const path = resolve(cwd, name);
      const mode = (await stat(path).catch(() => undefined))?.mode ?? 0o644;
      const rekeyer = new Rekeyer(oldKey, changes);
      const file = await transformToTemp(await openInput(path), coderStream(rekeyer), path, mode & 0o777).catch((err: Error) => {
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
