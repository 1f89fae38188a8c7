/**
 * @module
 * The daemon's listeners and their lifecycle: the socket directory (created 0700 in one step, refused
 * when someone else could enter it), the socket itself (created 0600 under umask 0177), a stale
 * socket left by a crash (connection refused → replaced; a live daemon → refuse to start), the
 * optional loopback TCP listener, and a graceful close (stop accepting, finish what is in flight,
 * remove the socket).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { connect } from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from '../core/io/path.js';
import { BerthError } from '../core/errors.js';
import { withLock } from '../core/io/lock.js';

export class DaemonStartError extends BerthError {
  override name = 'DaemonStartError';
}

/** Longest path a unix socket address holds on Linux (108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

/** Generous limits for a local API whose answers take a millisecond; a slow client cannot hold a slot. */
const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Creates the socket directory 0700, or checks an existing one is ours and closed to others. */
export async function prepareSocketDir(dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    await mkdir(dir, { mode: 0o700 });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const stats = await lstat(dir);
  if (!stats.isDirectory()) throw new DaemonStartError(`${dir} exists and is not a directory`);
  if (typeof process.getuid === 'function' && stats.uid !== process.getuid()) {
    throw new DaemonStartError(`${dir} belongs to another user (uid ${stats.uid})`, {
      hint: 'point BERTH_DAEMON_SOCKET or XDG_RUNTIME_DIR at a directory of your own',
    });
  }
  if ((stats.mode & 0o077) !== 0) {
    throw new DaemonStartError(`${dir} is accessible to other users (mode ${(stats.mode & 0o777).toString(8)})`, {
      hint: `chmod 700 ${dir}`,
    });
  }
}

/** True when something answers on the socket; a refused or missing socket is not alive. */
export function socketIsAlive(path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(true), timeoutMs); // accepting but silent: treat as taken
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Removes a socket file left by a crashed daemon; refuses when a daemon still answers there. */
export async function replaceStaleSocket(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stats.isSocket()) throw new DaemonStartError(`${path} exists and is not a socket`);
  if (await socketIsAlive(path)) {
    throw new DaemonStartError(`a berth daemon is already running on ${path}`, { hint: 'berth daemon status' });
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

function newServer(handler: RequestListener): Server {
  const server = createServer({ requestTimeout: 60_000, headersTimeout: HEADERS_TIMEOUT_MS }, handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}

/** Listens on a unix socket that only its owner can open (mode 0600 from the moment it exists). */
export async function listenUnix(handler: RequestListener, path: string): Promise<Server> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new DaemonStartError(`socket path too long (${Buffer.byteLength(path)} bytes, at most ${MAX_SOCKET_PATH}): ${path}`, {
      hint: 'set BERTH_DAEMON_SOCKET to a shorter path',
    });
  }
  const dir = dirname(path);
  await prepareSocketDir(dir);
  // Two daemons starting at once (auto-start from parallel pulls) must not both judge the old
  // socket stale and unlink each other's: the check and the listen happen under one lock.
  const server = newServer(handler);
  await withLock(join(dir, 'start.lock'), 'the daemon socket', async () => {
    await replaceStaleSocket(path);
    const previous = setUmask(0o177);
    try {
      await listen(server, () => server.listen(path));
    } finally {
      if (previous !== undefined) setUmask(previous);
    }
  });
  // Already 0600 through the umask; chmod too in case this runtime could not set one.
  await chmod(path, 0o600);
  return server;
}

/** Listens on a loopback TCP address; anything else is refused (the API hands out secrets). */
export async function listenTcp(handler: RequestListener, host: string, port: number): Promise<Server> {
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    throw new DaemonStartError(`--listen ${host}:${port}: only a loopback address is allowed`, {
      hint: 'use --listen 127.0.0.1:PORT',
    });
  }
  const server = newServer(handler);
  await listen(server, () => server.listen(port, host));
  return server;
}

function listen(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start();
  });
}

/** `process.umask` cannot be set in worker threads; the chmod after listen covers that case. */
function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

/**
 * Stops accepting, lets in-flight requests finish (up to `graceMs`, then cuts them), and removes the
 * unix socket if this server made one.
 */
export async function closeGracefully(server: Server, graceMs = 10_000): Promise<void> {
  const address = server.address();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
  if (typeof address === 'string') {
    await unlink(address).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
