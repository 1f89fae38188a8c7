/**
 * @module
 * Atomic file replacement: write a temporary file beside the target (mode 0600 unless told
 * otherwise), flush it, rename it over the target. A reader sees the old file or the new one, never
 * half of either; on any failure the temporary file is removed and the target is untouched.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, open as openFd, write, writev, type WriteStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicFile {
  /** The temporary file being written. */
  readonly tempPath: string;
  readonly stream: WriteStream;
  /** The temporary file's descriptor, for callers that write with fs calls instead of the stream. */
  readonly fd: number;
  /** Flushes and renames over the target. */
  commit(): Promise<void>;
  /** Removes the temporary file; safe to call after a failed commit or twice. */
  abort(): Promise<void>;
}

export interface AtomicOptions {
  mode?: number;
  /** Create missing parent directories with this mode (default 0700). */
  dirMode?: number;
  /**
   * fsync before the rename (default true), so a crash cannot leave an empty file in place of the
   * old one. Callers whose input survives anyway (encrypt/decrypt of a large file) may skip it.
   */
  sync?: boolean;
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function openAtomic(target: string, { mode = 0o600, dirMode = 0o700, sync = true }: AtomicOptions = {}): Promise<AtomicFile> {
  await mkdir(dirname(target), { recursive: true, mode: dirMode });
  const tempPath = tempPathFor(target);
  // 'wx' refuses to follow a planted symlink or reuse an existing file; the mode applies at creation.
  const handle = await open(tempPath, 'wx', mode);
  await handle.chmod(mode); // the umask may have narrowed or widened nothing else; be exact
  // The handle owns the descriptor. A stream over a bare fd closes it on destroy() whatever
  // autoClose says, and the handle would close it again (EBADF, or someone else's reused fd), so
  // the stream gets a close that does nothing.
  const stream = createWriteStream('', {
    fd: handle.fd,
    autoClose: false,
    fs: { open: openFd, write, writev, close: (_fd: number, callback: (err: null) => void) => callback(null) },
  });
  let settled = false;
  const closeHandle = async () => {
    if (!settled) {
      settled = true;
      await handle.close().catch(() => undefined);
    }
  };
  const abort = async () => {
    if (!stream.closed) {
      // Wait until a write in flight has finished before the handle closes the descriptor.
      await new Promise<void>((resolve) => {
        stream.once('close', resolve);
        stream.destroy();
      });
    }
    await closeHandle();
    await unlink(tempPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  };
  return {
    tempPath,
    stream,
    fd: handle.fd,
    abort,
    async commit() {
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
      try {
        if (sync) await handle.sync();
        await closeHandle();
        await rename(tempPath, target);
      } catch (err) {
        await abort();
        throw err;
      }
    },
  };
}

/** Writes `data` to `target` atomically. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: AtomicOptions = {}): Promise<void> {
  const file = await openAtomic(target, options);
  try {
    await new Promise<void>((resolve, reject) => {
      file.stream.once('error', reject);
      file.stream.write(data, (err) => (err ? reject(err) : resolve()));
    });
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}
