/**
 * @module
 * Talking to `berth daemon` over its unix socket: where the socket is, and a tiny HTTP/1.1 client
 * with short timeouts. The helper's `get` makes one request per process, so the client is one
 * request written on a socket (`node:net`; Bun's own on the standalone executable) and one response
 * read until the daemon closes it: loading `node:http` would cost more start-up than the request
 * takes. A daemon that is absent, crashed or
 * slow is "unavailable" and the caller resolves directly.
 */
import { join } from '../io/path.js';
import type { Credential } from '../credential.js';
import { BerthError, NOT_FOUND_MESSAGE } from '../errors.js';
import { berthCacheDir, type Env } from '../paths.js';
import { STANDALONE } from '../io/self.js';
import { pathProblem } from '../io/sys.js';

export const SOCKET_NAME = 'daemon.sock';
export const PID_FILE_NAME = 'daemon.pid';

/** Connecting to a live local socket takes microseconds; longer means the daemon is wedged. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 500;
/** A cached answer takes a millisecond; a cold one waits on the cloud like the direct path would. */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 5_000;

/** The daemon's runtime directory: `$XDG_RUNTIME_DIR/berth`, else a per-user one under the cache dir. */
export function daemonDir(env: Env): string {
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'berth') : join(berthCacheDir(env), 'run');
}

/** `BERTH_DAEMON_SOCKET`, else the config file's `daemon.socket`, else `daemon.sock` in `daemonDir`. */
export function daemonSocketPath(env: Env, configured?: string): string {
  return env.BERTH_DAEMON_SOCKET || configured || join(daemonDir(env), SOCKET_NAME);
}

/** The daemon did not answer (no socket, refused, timed out, or broken): resolve directly instead. */
export class DaemonUnavailableError extends BerthError {
  override name = 'DaemonUnavailableError';
}

export interface DaemonResponse {
  status: number;
  body: string;
}

export interface DaemonRequest {
  method?: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
}

/** More than any answer of the daemon's; a longer one is a broken daemon, not a credential. */
const MAX_RESPONSE_BYTES = 1 << 20;

export async function daemonRequest(socketPath: string, options: DaemonRequest): Promise<DaemonResponse> {
  // No socket, no daemon: say so without loading node:net (and node:stream with it), which would
  // cost a direct `get` more than its answer.
  const problem = await pathProblem(socketPath);
  if (problem) throw new DaemonUnavailableError(`berth daemon at ${socketPath}: ${problem.code ?? 'ENOENT'}`, { cause: problem });
  const { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, responseTimeoutMs = DEFAULT_RESPONSE_TIMEOUT_MS } = options;
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers = new Map<string, string>([['host', 'localhost']]);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name.toLowerCase(), value);
  if (payload !== undefined) headers.set('content-type', 'application/json').set('content-length', String(payload.length));
  // One connection per request: the helper makes one call per process, and the end of the answer
  // is then also the end of the connection.
  headers.set('connection', 'close');
  const head = [`${options.method ?? 'GET'} ${options.path} HTTP/1.1`, ...[...headers].map(([name, value]) => `${name}: ${value}`)];
  if (/[\r\n]/.test(head.join(''))) throw new TypeError('a daemon request may not contain a line break in its path or headers');
  const request = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), payload ?? Buffer.alloc(0)]);
  const open = STANDALONE ? bunConnection : await nodeConnection();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let connection: Connection | undefined;
    const fail = (message: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection?.close();
      reject(new DaemonUnavailableError(`berth daemon at ${socketPath}: ${message}`, { cause }));
    };
    const finish = () => {
      if (settled) return;
      try {
        const response = parseResponse(Buffer.concat(chunks));
        settled = true;
        clearTimeout(timer);
        connection?.close();
        resolve(response);
      } catch (err) {
        fail((err as Error).message, err);
      }
    };
    let timer = setTimeout(() => fail(`no connection within ${connectTimeoutMs} ms`), connectTimeoutMs);
    connection = open(socketPath, {
      connect() {
        clearTimeout(timer);
        timer = setTimeout(() => fail(`no answer within ${responseTimeoutMs} ms`), responseTimeoutMs);
      },
      data(chunk) {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) fail(`answer longer than ${MAX_RESPONSE_BYTES} bytes`);
        else chunks.push(chunk);
        // An answer whose length it names is complete with its last byte: no need to wait for the close.
        if (!settled && hasWholeBody(chunks.length === 1 ? chunk : Buffer.concat(chunks))) finish();
      },
      error: (err) => fail(err.code ?? err.message, err),
      end: finish,
    });
    // Written now and sent as the connection opens: no turn of the event loop in between.
    connection.write(request);
  });
}

/** One connection to the daemon's socket, as the request above drives it. */
interface Connection {
  /** Sends `data` once the connection is open (at once if it is). */
  write(data: Buffer): void;
  close(): void;
}

interface ConnectionEvents {
  connect(): void;
  data(chunk: Buffer): void;
  /** The daemon closed its side: the answer is complete. */
  end(): void;
  error(err: NodeJS.ErrnoException): void;
}

type Connect = (socketPath: string, on: ConnectionEvents) => Connection;

/** A `node:net` socket (loaded here: a direct `get` never pays for it). */
async function nodeConnection(): Promise<Connect> {
  const { connect } = await import('node:net');
  return (socketPath, on) => {
    const socket = connect({ path: socketPath });
    socket.once('connect', on.connect);
    socket.on('data', on.data);
    socket.once('error', on.error);
    socket.once('end', on.end);
    return { write: (data) => socket.write(data), close: () => socket.destroy() };
  };
}

/** The piece of Bun's socket API used here (the standalone executable runs on Bun). */
interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
}
interface BunRuntime {
  connect(options: {
    unix: string;
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, chunk: Uint8Array): void;
      drain(socket: BunSocket): void;
      end(socket: BunSocket): void;
      close(socket: BunSocket): void;
      error(socket: BunSocket, err: Error): void;
      connectError(socket: BunSocket, err: Error): void;
    };
  }): Promise<BunSocket>;
}

/**
 * Bun's own unix socket: on the standalone executable `node:net` (with the `node:stream` it pulls
 * in) takes longer to load than the daemon takes to answer. A write the socket takes only in part
 * is finished when it drains.
 */
function bunConnection(socketPath: string, on: ConnectionEvents): Connection {
  let socket: BunSocket | undefined;
  let pending: Uint8Array | undefined;
  let closed = false;
  const flush = () => {
    if (!socket || !pending) return;
    const written = socket.write(pending);
    pending = written >= 0 && written < pending.length ? pending.subarray(written) : undefined;
  };
  const fail = (_socket: BunSocket, err: Error) => on.error(err as NodeJS.ErrnoException);
  (globalThis as unknown as { Bun: BunRuntime }).Bun.connect({
    unix: socketPath,
    socket: {
      open(opened) {
        socket = opened;
        if (closed) opened.end();
        else {
          on.connect();
          flush();
        }
      },
      data: (_socket, chunk) => on.data(Buffer.from(chunk)),
      drain: flush,
      end: () => on.end(),
      close: () => on.end(),
      error: fail,
      connectError: fail,
    },
  }).catch((err: NodeJS.ErrnoException) => on.error(err));
  return {
    write(data) {
      pending = data;
      flush();
    },
    close() {
      closed = true;
      socket?.end();
    },
  };
}

/** A whole HTTP/1.1 response: status line, headers, and a body by length, chunked, or to the end. */
/** True once `raw` holds the headers and as many body bytes as its Content-Length names. */
function hasWholeBody(raw: Buffer): boolean {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(raw.subarray(0, headEnd + 2).toString('latin1'));
  return length !== null && raw.length - headEnd - 4 >= Number(length[1]);
}

export function parseResponse(raw: Buffer): DaemonResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error('the answer ended inside its headers');
  const [statusLine = '', ...headerLines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) throw new Error('the answer is not HTTP');
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.subarray(headEnd + 4);
  if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) body = dechunk(body);
  else if (headers.has('content-length')) {
    const length = Number(headers.get('content-length'));
    if (!Number.isInteger(length) || length < 0 || body.length < length) throw new Error('the answer ended inside its body');
    body = body.subarray(0, length);
  }
  return { status: Number(status[1]), body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const pieces: Buffer[] = [];
  for (let offset = 0; ; ) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) throw new Error('the answer ended inside a chunk');
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('the answer has a bad chunk');
    if (size === 0) return Buffer.concat(pieces);
    const start = lineEnd + 2;
    if (data.length < start + size) throw new Error('the answer ended inside a chunk');
    pieces.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/**
 * Asks the daemon for one registry's credential. Undefined when the daemon knows no credential for
 * it; `DaemonUnavailableError` when the daemon cannot answer (the caller then resolves directly).
 */
export async function credentialFromDaemon(
  socketPath: string,
  serverURL: string,
  timeouts: Pick<DaemonRequest, 'connectTimeoutMs' | 'responseTimeoutMs'> = {},
): Promise<Credential | undefined> {
  const response = await daemonRequest(socketPath, {
    path: `/v1/credentials?registry=${encodeURIComponent(serverURL)}`,
    ...timeouts,
  });
  let body: { Username?: unknown; Secret?: unknown; ExpiresAt?: unknown; error?: unknown };
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    throw new DaemonUnavailableError(`berth daemon at ${socketPath}: answered ${response.status} with no JSON`);
  }
  if (response.status === 404 && body.error === NOT_FOUND_MESSAGE) return undefined;
  if (response.status !== 200 || typeof body.Username !== 'string' || typeof body.Secret !== 'string') {
    throw new DaemonUnavailableError(`berth daemon at ${socketPath}: ${String(body.error ?? `status ${response.status}`)}`);
  }
  const expiresAt = typeof body.ExpiresAt === 'string' ? new Date(body.ExpiresAt) : undefined;
  return {
    username: body.Username,
    secret: body.Secret,
    ...(expiresAt && !Number.isNaN(expiresAt.getTime()) ? { expiresAt } : {}),
  };
}
