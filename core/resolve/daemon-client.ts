/**
 * @module
 * Talking to `berth daemon` over its unix socket: where the socket is, and a tiny HTTP client with
 * short timeouts. The helper imports this on every run, so it uses `node:http` only, and loads even
 * that only when a request is made (about 10 ms of start-up that `list`, `store` and a `get` the
 * store answers do not pay). A daemon that is absent, crashed or slow is "unavailable" and the
 * caller resolves directly.
 */
import { join } from 'node:path';
import type { Credential } from '../credential.js';
import { BerthError, NOT_FOUND_MESSAGE } from '../errors.js';
import { berthCacheDir, type Env } from '../paths.js';

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

export async function daemonRequest(socketPath: string, options: DaemonRequest): Promise<DaemonResponse> {
  const { request } = await import('node:http');
  const { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, responseTimeoutMs = DEFAULT_RESPONSE_TIMEOUT_MS } = options;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      req.destroy();
      reject(new DaemonUnavailableError(`berth daemon at ${socketPath}: ${message}`, { cause }));
    };
    const req = request({
      socketPath,
      // One connection per request: the helper makes one call per process, and a pooled socket the
      // daemon has since closed would fail the next request with EPIPE.
      agent: false,
      path: options.path,
      method: options.method ?? 'GET',
      headers: { ...options.headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    let timer = setTimeout(() => fail(`no connection within ${connectTimeoutMs} ms`), connectTimeoutMs);
    req.once('socket', (socket) => {
      socket.once('connect', () => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(`no answer within ${responseTimeoutMs} ms`), responseTimeoutMs);
      });
    });
    req.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message, err));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', (err) => fail(err.message, err));
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(payload);
  });
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
