/**
 * @module
 * `berth daemon` itself: wires the token cache, the HTTP app and the listeners together, writes the
 * pid file, and shuts down cleanly on SIGTERM/SIGINT. Bundled as its own file (`berth-daemon.js`)
 * that `berth daemon start` loads at run time, so the rest of the CLI never pays for express.
 * How a registry is resolved can be injected (`resolve`); the default is `configuredResolver`.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname, join } from '../core/io/path.js';
import { loadConfig, type Config, type RegistryConfig } from '../core/config/load.js';
import { replaceProviderEnvironment } from '../core/resolve/provider-env.js';
import { PID_FILE_NAME, daemonSocketPath } from '../core/resolve/daemon-client.js';
import { oneLine } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { messages } from '../core/io/messages.js';
import { foreignOwner } from '../core/io/owner.js';
import type { Env } from '../core/paths.js';
import { TokenCache, type ResolveCredential } from '../core/resolve/refresh.js';
import { registryKey } from '../core/registry-host.js';
import { VERSION } from '../core/version.js';
import { createApp, requestListener } from './app.js';
import { configuredResolver } from './resolve.js';
import { RequestMetrics } from './metrics.js';
import { DaemonStartError, closeGracefully, listenTcp, listenUnix } from './server.js';

export interface DaemonOptions {
  env: Env;
  socketPath?: string;
  /** An explicit loopback TCP listener; requests then need the bearer token in `tokenFile`. */
  listen?: { host: string; port: number };
  tokenFile?: string;
  /** Registry host → credential; default: the configured registries' providers, then the store. */
  resolve?: ResolveCredential;
  /** Retry timing after a failed refresh (tests shorten it). */
  backoff?: { baseMs: number; capMs: number };
  log?: (line: string) => void;
  now?: () => number;
}

export interface RunningDaemon {
  socketPath: string;
  pidFile: string;
  tcp?: { host: string; port: number; tokenFile: string };
  /** Stops accepting, finishes in-flight requests, removes the socket and pid file. Idempotent. */
  close(): Promise<void>;
  /** Settles once the daemon has closed, whoever asked (a signal, `POST /v1/shutdown`). */
  closed: Promise<void>;
  /**
   * Re-reads the config file (SIGHUP, `berth daemon reload`); with `env`, first replaces the
   * provider variables of the daemon's environment with those. Every cached token is dropped and
   * every configured registry fetched again. Resolves with the registries now configured.
   */
  reload(env?: Readonly<Record<string, string>>): Promise<string[]>;
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const log = options.log ?? defaultLog(options.env);
  const now = options.now ?? Date.now;
  const loaded = await loadConfig(options.env);
  for (const problem of loaded.problems) log(`warning: ${problem}`);
  // What a reload replaces; the token cache reaches it through the closures below.
  let env = options.env;
  let served = servedFrom(options, env, loaded.config, now);
  const socketPath = options.socketPath ?? daemonSocketPath(options.env, loaded.config.daemon?.socket);
  const pidFile = join(dirname(socketPath), PID_FILE_NAME);
  const cache = new TokenCache({
    resolve: (registryHost) => served.resolve(registryHost),
    now,
    fallbackFor: (registryHost) => served.fallbackFor(registryHost),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
  const life = lifecycle(cache, pidFile);
  const onShutdown = () => {
    log('shutdown requested');
    life.close().catch((err: unknown) => log(`error: shutting down: ${oneLine(err)}`));
  };
  const warm = () => {
    for (const host of served.hosts) {
      cache.get(registryKey(host)).catch((err: unknown) => log(`warning: warm-up of ${host}: ${oneLine(err)}`));
    }
  };
  const reload = async (incoming?: Readonly<Record<string, string>>) => {
    const next = await loadConfig(env); // BERTH_CONFIG is not a provider variable: the same file
    for (const problem of next.problems) log(`warning: ${problem}`);
    if (incoming) {
      const replaced = { ...env };
      const changed = replaceProviderEnvironment(replaced, incoming, next.config);
      env = replaced;
      // The SDKs read process.env themselves (the AWS chain, google-auth-library): keep it in step.
      if (options.env === process.env) replaceProviderEnvironment(process.env, incoming, next.config);
      if (changed.length > 0) log(`reload: environment changed (${changed.sort().join(', ')})`);
    }
    served = servedFrom(options, env, next.config, now);
    for (const status of cache.status()) cache.invalidate(status.registryHost);
    log(`reload: ${served.hosts.length} configured ${served.hosts.length === 1 ? 'registry' : 'registries'}`);
    warm();
    return [...served.hosts];
  };
  const shared = {
    cache,
    registries: () => served.hosts,
    metrics: new RequestMetrics(),
    now,
    log,
    version: VERSION,
    onShutdown,
    onReload: reload,
  };
  try {
    life.servers.push(await listenUnix(requestListener(shared), socketPath));
    const tokenFile = options.tokenFile ?? join(dirname(socketPath), 'daemon.token');
    const tcp = options.listen && (await startTcp(options.listen, tokenFile, shared, life.servers));
    await writeFileAtomic(pidFile, `${process.pid}\n`);
    log(`listening on ${socketPath}${tcp ? ` and http://${tcp.host}:${tcp.port}` : ''} (pid ${process.pid})`);
    // Configured registries are fetched now, so the first `get` is answered from memory.
    warm();
    return { socketPath, pidFile, ...(tcp ? { tcp } : {}), close: life.close, closed: life.closed, reload };
  } catch (err) {
    await life.close();
    throw err;
  }
}

interface Served {
  hosts: readonly string[];
  resolve: ResolveCredential;
  fallbackFor: (registryHost: string) => string | undefined;
}

function servedFrom(options: DaemonOptions, env: Env, config: Config, now: () => number): Served {
  const registries = config.registries ?? [];
  return {
    hosts: registries.map((registry) => registry.host),
    resolve: options.resolve ?? configuredResolver(env, config, now),
    fallbackFor: fallbackMap(registries),
  };
}

/** The daemon's log is its stderr (a file with --detach), in the same form as every berth message. */
function defaultLog(env: Env): (line: string) => void {
  return messages(process.stderr, env).info;
}

/** One close for every way a daemon stops; `closed` settles when it is done. */
function lifecycle(cache: TokenCache, pidFile: string) {
  const servers: Server[] = [];
  let closing: Promise<void> | undefined;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const close = () =>
    (closing ??= (async () => {
      cache.close();
      try {
        await Promise.all(servers.map((server) => closeGracefully(server)));
        await removePidFile(pidFile);
      } finally {
        markClosed();
      }
    })());
  return { servers, close, closed };
}

async function startTcp(
  listen: { host: string; port: number },
  tokenFile: string,
  shared: Parameters<typeof createApp>[0],
  servers: Server[],
): Promise<{ host: string; port: number; tokenFile: string }> {
  const token = await loadOrCreateToken(tokenFile);
  // The Host header must name the listener itself, so a rebound DNS name never gets an answer. The
  // port is known once listening (port 0 picks one); until then no Host is accepted.
  const auth = { token, hosts: [] as string[] };
  const server = await listenTcp(createApp({ ...shared, auth }), listen.host, listen.port);
  servers.push(server);
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : listen.port;
  // Every loopback name (the listener is on loopback only): `--listen localhost:PORT` listens on
  // 127.0.0.1, and a client may name it either way.
  const names = new Set([listen.host, '127.0.0.1', 'localhost', '[::1]']);
  auth.hosts.push(...[...names].map((name) => `${name}:${port}`));
  return { host: listen.host, port, tokenFile };
}

/** The bearer token for the TCP listener: read from a 0600 file, created with 32 random bytes if absent. */
export async function loadOrCreateToken(tokenFile: string): Promise<string> {
  try {
    const stats = await stat(tokenFile);
    const owner = foreignOwner(stats);
    if (owner) {
      // Anyone who could write the file would hold the key to the daemon's credentials.
      throw new DaemonStartError(`token file ${tokenFile} belongs to ${owner}, not to the user running the daemon`, {
        hint: 'use a token file of your own (or let the daemon create one)',
      });
    }
    if ((stats.mode & 0o077) !== 0) {
      throw new DaemonStartError(`token file ${tokenFile} is readable by other users`, { hint: `chmod 600 ${tokenFile}` });
    }
    const token = (await readFile(tokenFile, 'utf8')).trim();
    if (token.length < 16) throw new DaemonStartError(`token file ${tokenFile} holds no usable token (at least 16 characters)`);
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFileAtomic(tokenFile, `${token}\n`, { mode: 0o600 });
  return token;
}

async function removePidFile(pidFile: string): Promise<void> {
  const content = await readFile(pidFile, 'utf8').catch(() => '');
  if (content.trim() === String(process.pid)) await unlink(pidFile).catch(() => undefined);
}

/** Each registry host → the host of the registry its `fallback` names. */
function fallbackMap(registries: readonly RegistryConfig[]): (registryHost: string) => string | undefined {
  const byName = new Map(registries.map((r) => [r.name, r]));
  const map = new Map<string, string>();
  for (const registry of registries) {
    const fallback = registry.fallback === undefined ? undefined : byName.get(registry.fallback);
    if (fallback) map.set(registryKey(registry.host), registryKey(fallback.host));
  }
  return (registryHost) => map.get(registryHost);
}

/** Runs until SIGTERM, SIGINT or `POST /v1/shutdown`, then finishes in-flight requests and removes the socket. */
export async function runForeground(options: DaemonOptions): Promise<void> {
  const daemon = await startDaemon(options);
  const log = options.log ?? defaultLog(options.env);
  const stop = (signal: NodeJS.Signals) => {
    log(`${signal}: shutting down`);
    daemon.close().catch((err: unknown) => log(`error: shutting down: ${oneLine(err)}`));
  };
  // SIGHUP re-reads the config file (systemd's ExecReload); the environment is the process's own.
  const reload = () => {
    log('SIGHUP: reloading');
    daemon.reload().catch((err: unknown) => log(`error: reload: ${oneLine(err)}`));
  };
  process.on('SIGTERM', stop).on('SIGINT', stop).on('SIGHUP', reload);
  await daemon.closed;
  process.off('SIGTERM', stop).off('SIGINT', stop).off('SIGHUP', reload);
  log('stopped');
}
