/**
 * @module
 * Writing an output so that a reader sees the old file or the new one, never half of either, and a
 * failure (or a kill) leaves nothing behind. What the target is decides how:
 * - a regular file, or a path that does not exist yet: a temporary file in the same directory
 *   (mode 0600 unless told otherwise), flushed, renamed over the target. With `anonymous` on Linux
 *   the temporary file has no name until it is complete (`O_TMPFILE`), so a process killed
 *   mid-write leaves no partial plaintext; where that is unavailable, temporary files left by
 *   dead writers are removed the next time a file is written in that directory.
 * - a symbolic link: the file it names is replaced as above and the link stays a link.
 * - anything else that exists (a device such as /dev/null, a FIFO, a socket, a descriptor path
 *   such as /dev/stdout or /proc/self/fd/N): written through, in order, with no temporary file.
 *   Replacing those with a file would turn /dev/null into a file of credentials.
 */
import { constants, createWriteStream, existsSync, open as openFd, write, writev, writevSync, type WriteStream } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from './path.js';

export interface AtomicFile {
  /** The name the new file has before it is renamed over the target (absent until commit when anonymous). */
  readonly tempPath: string;
  readonly stream: WriteStream;
  /** The descriptor being written, for callers that write with fs calls instead of the stream. */
  readonly fd: number;
  /** True when the target is written through (a device, FIFO, socket or descriptor path). */
  readonly direct: boolean;
  /** Flushes and renames over the target (or, written through, closes it). */
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
  /**
   * Write to a file with no name until commit (Linux `O_TMPFILE`), for outputs that may hold
   * plaintext and take a while. Costs a short-lived `ln` process at commit; falls back to a named
   * temporary file where the filesystem or the platform cannot.
   */
  anonymous?: boolean;
  /** Called with the new file complete, right before it replaces the target; a throw leaves the target as it was. */
  beforeRename?: () => Promise<void>;
}

/** Paths that name a descriptor rather than a file. */
const DESCRIPTOR_PATH = /^\/(?:dev\/(?:stdin|stdout|stderr|fd\/\d+)|proc\/(?:self|thread-self|\d+)\/fd\/\d+)$/;
/** Our temporary files: `.<target>.<pid>.<random>.tmp` (older versions left out the pid). */
const TEMP_NAME = /^\..+?(?:\.(\d+))?\.[0-9a-f]{12}\.tmp$/;
/** A dead writer's temporary file is left alone this long (its pid may belong to another pid namespace). */
const STALE_GRACE_MS = 30_000;
/** Any temporary file of ours untouched this long is stale, whoever owns the pid now. */
const STALE_ANYWAY_MS = 24 * 60 * 60 * 1000;

type Place = { kind: 'through'; path: string } | { kind: 'replace'; path: string };

export async function openAtomic(target: string, options: AtomicOptions = {}): Promise<AtomicFile> {
  const place = await placeFor(target);
  if (place.kind === 'through') return openThrough(place.path);
  const { dirMode = 0o700 } = options;
  await mkdir(dirname(place.path), { recursive: true, mode: dirMode });
  await removeStaleTemps(dirname(place.path));
  return openReplacing(place.path, options);
}

/** How to write `target`: through it, or by replacing the regular file it is or names. */
async function placeFor(target: string): Promise<Place> {
  const path = resolve(target);
  if (DESCRIPTOR_PATH.test(path)) return { kind: 'through', path };
  const followed = await stat(path).catch(ignoreMissing);
  if (followed && !followed.isFile() && !followed.isDirectory()) return { kind: 'through', path };
  const own = await lstat(path).catch(ignoreMissing);
  if (own?.isSymbolicLink()) return { kind: 'replace', path: await linkTarget(path) };
  return { kind: 'replace', path };
}

/** The file a symbolic link names, also when it does not exist yet (a dangling link). */
async function linkTarget(link: string): Promise<string> {
  const real = await realpath(link).catch(ignoreMissing);
  if (real) return real;
  let path = link;
  for (let hops = 0; hops < 40; hops++) {
    const info = await lstat(path).catch(ignoreMissing);
    if (!info?.isSymbolicLink()) return path;
    path = resolve(dirname(path), await readlink(path));
  }
  throw Object.assign(new Error(`too many levels of symbolic links: ${link}`), { code: 'ELOOP' });
}

function ignoreMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}

/**
 * A stream over a handle's descriptor. The handle owns the descriptor: a stream over a bare fd
 * closes it on destroy() whatever autoClose says, and the handle would close it again (EBADF, or
 * someone else's reused fd), so the stream gets a close that does nothing.
 */
function streamOver(handle: FileHandle): WriteStream {
  return createWriteStream('', {
    fd: handle.fd,
    autoClose: false,
    fs: { open: openFd, write, writev, close: (_fd: number, callback: (err: null) => void) => callback(null) },
  });
}

/** Ends the stream, waiting until every write has reached the descriptor. */
function endStream(stream: WriteStream): Promise<void> {
  return new Promise<void>((done, fail) => {
    stream.once('error', fail);
    stream.end(() => done());
  });
}

/** Stops the stream, waiting until a write in flight has finished before the descriptor closes. */
async function stopStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  await new Promise<void>((done) => {
    stream.once('close', done);
    stream.destroy();
  });
}

function closer(handle: FileHandle): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => undefined);
  };
}

/** The descriptor number a path names in this process (`/dev/stdout`, `/proc/self/fd/3`), if any. */
function ownDescriptor(path: string): number | undefined {
  const named: Record<string, number> = { '/dev/stdin': 0, '/dev/stdout': 1, '/dev/stderr': 2 };
  if (path in named) return named[path];
  const match = /^\/(?:dev\/fd|proc\/(?:self|thread-self|(\d+))\/fd)\/(\d+)$/.exec(path);
  if (!match || (match[1] !== undefined && Number(match[1]) !== process.pid)) return undefined;
  return Number(match[2]);
}

/** Devices, FIFOs, sockets and descriptor paths: opened for writing and written in order. */
async function openThrough(path: string): Promise<AtomicFile> {
  // O_TRUNC is ignored by devices and FIFOs; a regular file behind /dev/stdout starts empty, as with cp.
  const handle = await open(path, 'w').catch((err: NodeJS.ErrnoException) => {
    // A socket (node's own child stdio) cannot be opened by path: write to the descriptor itself.
    const fd = ownDescriptor(path);
    if (err.code === 'ENXIO' && fd !== undefined) return fd;
    throw err;
  });
  if (typeof handle === 'number') return writeToDescriptor(handle);
  const stream = streamOver(handle);
  const close = closer(handle);
  const abort = async () => {
    await stopStream(stream);
    await close();
  };
  return {
    tempPath: path,
    stream,
    fd: handle.fd,
    direct: true,
    abort,
    async commit() {
      try {
        await endStream(stream);
      } finally {
        await abort();
      }
    },
  };
}

/** Writes to a descriptor this process already has, without closing it (it is not ours). */
async function writeToDescriptor(fd: number): Promise<AtomicFile> {
  const { Writable } = await import('node:stream');
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writeAll(fd, [chunk]).then(() => callback(), callback);
    },
  }) as unknown as WriteStream;
  const abort = () => stopStream(stream);
  return {
    tempPath: `/proc/self/fd/${fd}`,
    stream,
    fd,
    direct: true,
    abort,
    async commit() {
      await endStream(stream);
    },
  };
}

/**
 * Writes all of `pieces` to `fd` (writev may stop short). A descriptor node has set non-blocking
 * (its own stdio pipes and sockets) answers EAGAIN when full: wait a moment and go on.
 */
export async function writeAll(fd: number, pieces: readonly Uint8Array[]): Promise<void> {
  const rest = pieces.filter((piece) => piece.length > 0);
  while (rest.length > 0) {
    let written: number;
    try {
      written = writevSync(fd, rest as NodeJS.ArrayBufferView[]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    while (rest.length > 0 && written >= rest[0]!.length) written -= rest.shift()!.length;
    if (written > 0) rest[0] = rest[0]!.subarray(written);
  }
}

function tempPathFor(target: string): string {
  const random = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString('hex');
  return join(dirname(target), `.${basename(target)}.${process.pid}.${random}.tmp`);
}

async function openReplacing(
  target: string,
  { mode = 0o600, sync = true, anonymous = false, beforeRename }: AtomicOptions,
): Promise<AtomicFile> {
  const tempPath = tempPathFor(target);
  const unnamed = anonymous ? await openUnnamed(dirname(target), mode) : undefined;
  // 'wx' refuses to follow a planted symlink or reuse an existing file; the mode applies at creation.
  const handle = unnamed ?? (await open(tempPath, 'wx', mode));
  await handle.chmod(mode); // the umask may have narrowed or widened nothing else; be exact
  // Made when first asked for: a caller that writes the descriptor (files.ts) never loads node:stream.
  let stream: WriteStream | undefined;
  const close = closer(handle);
  const abort = async () => {
    if (stream) await stopStream(stream);
    await close();
    await unlink(tempPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  };
  return {
    tempPath,
    get stream() {
      stream ??= streamOver(handle);
      return stream;
    },
    fd: handle.fd,
    direct: false,
    abort,
    async commit() {
      try {
        if (stream) await endStream(stream);
        if (sync) await handle.sync();
        if (unnamed) await nameUnnamed(handle, tempPath, mode);
        await close();
        await beforeRename?.();
        await rename(tempPath, target);
      } catch (err) {
        await abort();
        throw err;
      }
    },
  };
}

/** Linux's `O_TMPFILE` (with O_DIRECTORY, as open(2) defines it); node does not export it. */
function tmpfileFlag(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  // __O_TMPFILE is 020000000 on every architecture node runs on except alpha, parisc and sparc.
  if (!['x64', 'arm64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'].includes(process.arch)) return undefined;
  return 0o20000000 | constants.O_DIRECTORY;
}

/** A file with no name in `dir`, or undefined where the filesystem (or kernel) has no O_TMPFILE. */
async function openUnnamed(dir: string, mode: number): Promise<FileHandle | undefined> {
  const flag = tmpfileFlag();
  if (flag === undefined) return undefined;
  try {
    return await open(dir, flag | constants.O_RDWR, mode);
  } catch (err) {
    // EOPNOTSUPP: the filesystem cannot; EISDIR/EINVAL: a kernel before 3.11.
    if (['EOPNOTSUPP', 'ENOTSUP', 'EISDIR', 'EINVAL'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

/**
 * Gives the finished unnamed file the name `tempPath`. node has no linkat(), and link() does not
 * follow /proc/self/fd/N, so a coreutils `ln -L` is handed the descriptor and links it (linkat with
 * AT_SYMLINK_FOLLOW). Without that `ln` (busybox's has no -L), the content is copied to a named file.
 */
async function nameUnnamed(handle: FileHandle, tempPath: string, mode: number): Promise<void> {
  if (await linkWithLn(handle.fd, tempPath)) return;
  const copy = await open(tempPath, 'wx', mode);
  try {
    await copy.chmod(mode);
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      await copy.write(buffer, 0, bytesRead);
      position += bytesRead;
    }
    await copy.sync();
  } catch (err) {
    await copy.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw err;
  }
  await copy.close();
}

async function linkWithLn(fd: number, tempPath: string): Promise<boolean> {
  const ln = ['/usr/bin/ln', '/bin/ln'].find((path) => existsSync(path));
  if (!ln) return false;
  const { spawn } = await import('node:child_process'); // only here: the helper's get never loads it
  return new Promise((done) => {
    const child = spawn(ln, ['-L', '--', '/proc/self/fd/3', tempPath], { stdio: ['ignore', 'ignore', 'ignore', fd], env: {} });
    child.once('error', () => done(false));
    child.once('exit', (code) => done(code === 0 && existsSync(tempPath)));
  });
}

/**
 * Removes temporary files a killed writer left in `dir`: ours by name and owner, their writer's pid
 * gone (and quiet for a while, as the pid may be another namespace's), or untouched for a day.
 * Best effort: a file it cannot judge or remove is left.
 */
async function removeStaleTemps(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const pid = match[1] === undefined ? undefined : Number(match[1]);
    if (pid === process.pid) continue;
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile() || (typeof process.getuid === 'function' && info.uid !== process.getuid())) continue;
    const quiet = now - info.mtimeMs;
    const stale = quiet > STALE_ANYWAY_MS || (quiet > STALE_GRACE_MS && (pid === undefined || !isAlive(pid)));
    if (stale) await unlink(path).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes `data` to `target` (see the module comment for what the target may be). */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: AtomicOptions = {}): Promise<void> {
  const file = await openAtomic(target, options);
  try {
    await new Promise<void>((done, fail) => {
      file.stream.once('error', fail);
      file.stream.write(data, (err) => (err ? fail(err) : done()));
    });
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}
