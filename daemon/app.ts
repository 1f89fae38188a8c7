/**
 * @module
 * The daemon's HTTP API (express), the same on the unix socket and on an explicit TCP listener:
 * - `GET /v1/credentials?registry=<server URL>`: one registry's credential, from the token cache;
 * - `POST /v1/invalidate` `{"registry": "<server URL>"}`: drop one registry's token (it answered 401);
 * - `GET /v1/dockercfg[?registry=…][&format=…]`: a whole Docker config (or legacy .dockercfg, or
 *   Kubernetes pull Secret) for the configured registries;
 * - `GET /v1/status`, `GET /healthz`, `GET /metrics` (Prometheus text);
 * - `POST /v1/reload` `{"env": {…}}`: re-read the config file, take the caller's provider variables,
 *   drop every token and fetch the configured registries again;
 * - `POST /v1/shutdown`: stop gracefully (what `berth daemon stop` asks; a pid could name another
 *   process when the daemon runs in a container's pid namespace).
 * Errors of ours render their own status; anything else is logged and answered with a bare 500.
 * Bodies are bounded, every request has a deadline, and on TCP every request needs the bearer token
 * and a loopback `Host` header (DNS rebinding).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  DOCKERCFG_FORMATS,
  formatDockercfg,
  isDockercfgFormat,
  type AuthEntry,
  type DockercfgFormat,
  type SecretOptions,
} from '../core/dockercfg/formats.js';
import { AllFailedError, BerthError, NotFoundError, ProviderError, UsageError, oneLine } from '../core/errors.js';
import type { Lookup, RegistryStatus, TokenCache } from '../core/resolve/refresh.js';
import { registryKey } from '../core/registry-host.js';
import { renderMetrics, type RequestMetrics } from './metrics.js';

/** What the API asks of the refresh-ahead token cache (core/resolve/refresh.ts); tests pass a small stand-in. */
export type AppTokenCache = Pick<TokenCache, 'get' | 'invalidate' | 'status'> & Partial<Pick<TokenCache, 'cached'>>;

export interface AppOptions {
  cache: AppTokenCache;
  /** The configured registries' hosts: what `/v1/dockercfg` includes by default. */
  registries: () => readonly string[];
  metrics: RequestMetrics;
  now: () => number;
  /** Where internal errors are reported (never with a secret). */
  log: (line: string) => void;
  version: string;
  /** Set for a TCP listener: the bearer token and the `Host` values accepted. */
  auth?: { token: string; hosts: readonly string[] };
  bodyLimitBytes?: number;
  requestTimeoutMs?: number;
  /** Called once the answer to `POST /v1/shutdown` has been sent. */
  onShutdown?: () => void;
  /** `POST /v1/reload` `{"env": {…}}`: re-read the config (and take these provider variables). */
  onReload?: (env?: Readonly<Record<string, string>>) => Promise<readonly string[]>;
}

export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** An error that carries the HTTP status the daemon answers with. */
export class HttpError extends BerthError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(observe(options));
  if (options.auth) app.use(requireAuth(options.auth));
  app.use(deadline(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS));
  // Every body is read through one bounded parser, whatever its type: nothing unbounded reaches us.
  app.use(express.json({ limit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES, type: () => true }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: options.version, pid: process.pid });
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(renderMetrics(options.cache.status(), options.metrics, options.now()));
  });
  app.get('/v1/status', (_req, res) => {
    res.json({ version: options.version, pid: process.pid, now: iso(options.now()), registries: options.cache.status().map(statusJSON) });
  });
  app.get('/v1/credentials', async (req, res) => {
    const serverURL = queryRegistry(req.query.registry);
    const lookup = await options.cache.get(registryKey(serverURL));
    res.json(credentialJSON(serverURL, lookup));
  });
  app.post('/v1/invalidate', (req, res) => {
    const serverURL = bodyRegistry(req.body);
    res.json({ invalidated: options.cache.invalidate(registryKey(serverURL)) });
  });
  app.get('/v1/dockercfg', async (req, res) => {
    const wanted = req.query.registry === undefined ? options.registries() : listOf(req.query.registry);
    const { format, secret } = dockercfgQuery(req.query);
    formatDockercfg([], format, secret); // a bad secret name or namespace fails before any provider call
    res.type('application/json').send(formatDockercfg(await authEntries(options.cache, wanted), format, secret));
  });
  app.post('/v1/reload', async (req, res) => {
    if (!options.onReload) throw new HttpError(404, 'this daemon cannot reload');
    res.json({ registries: await options.onReload(reloadEnv(req.body)) });
  });
  app.post('/v1/shutdown', (_req, res) => {
    if (!options.onShutdown) throw new HttpError(404, 'this daemon cannot be stopped through its API');
    res.once('finish', options.onShutdown);
    res.status(202).json({ stopping: true, pid: process.pid });
  });
  app.use((req) => {
    throw new HttpError(404, `no such endpoint: ${req.method} ${req.path.slice(0, 100)}`);
  });
  app.use(errorHandler(options.log));
  return app;
}

/**
 * The unix socket's request listener: the app, with one route in front of it. A `GET
 * /v1/credentials?registry=R` that the token cache answers from memory (nearly every helper's `get`
 * through the daemon) is answered here, as the app would answer it, without express: its routing
 * and middleware take longer than the answer. Every other request, and every such one the cache
 * cannot answer at once, goes to the app. A TCP listener (which checks a token) is the app alone.
 */
export function requestListener(options: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const app = createApp(options);
  const { cache } = options;
  if (options.auth || !cache.cached) return app;
  const cached = cache.cached.bind(cache);
  return (req, res) => {
    const serverURL = req.method === 'GET' && !hasBody(req) ? credentialsQuery(req.url) : undefined;
    const lookup = serverURL === undefined ? undefined : cached(registryKey(serverURL));
    if (serverURL === undefined || lookup === undefined) {
      app(req, res);
      return;
    }
    const start = process.hrtime.bigint();
    res.once('finish', () => options.metrics.observe('/v1/credentials', res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    const body = JSON.stringify(credentialJSON(serverURL, lookup));
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}

/** R of exactly `/v1/credentials?registry=R` (one registry, nothing else), else undefined. */
function credentialsQuery(url: string | undefined): string | undefined {
  const question = url?.indexOf('?') ?? -1;
  if (question < 0 || url!.slice(0, question) !== '/v1/credentials') return undefined;
  const query = new URLSearchParams(url!.slice(question + 1));
  const registry = query.get('registry');
  if (registry === null || [...query.keys()].length !== 1 || registryKey(registry) === '') return undefined;
  return registry;
}

function credentialJSON(serverURL: string, lookup: Lookup) {
  return {
    ServerURL: serverURL,
    Username: lookup.credential.username,
    Secret: lookup.credential.secret,
    ExpiresAt: lookup.credential.expiresAt?.toISOString(),
    Registry: lookup.servedBy,
  };
}

/** Every wanted registry's credential, from the token cache; any failure fails all. */
async function authEntries(cache: AppTokenCache, serverURLs: readonly string[]): Promise<AuthEntry[]> {
  const results = await Promise.allSettled(serverURLs.map((url) => cache.get(registryKey(url))));
  const failures = results.flatMap((r) =>
    r.status === 'rejected' ? [r.reason instanceof Error ? r.reason : new Error(String(r.reason))] : [],
  );
  if (failures.length > 0) throw new AllFailedError('cannot build the docker config', failures);
  return results.map((result, i) => {
    const { username, secret } = (result as PromiseFulfilledResult<Lookup>).value.credential;
    return { serverURL: serverURLs[i]!, username, secret };
  });
}

/** `format` (default `config`), and `secret-name`, `namespace` for the Kubernetes Secret formats. */
function dockercfgQuery(query: Request['query']): { format: DockercfgFormat; secret: SecretOptions } {
  const format = optionalString(query.format, 'format') ?? 'config';
  if (!isDockercfgFormat(format)) throw new HttpError(400, `the query parameter "format" must be one of ${DOCKERCFG_FORMATS.join(', ')}`);
  const secretName = optionalString(query['secret-name'], 'secret-name');
  const namespace = optionalString(query.namespace, 'namespace');
  return { format, secret: { ...(secretName === undefined ? {} : { secretName }), ...(namespace === undefined ? {} : { namespace }) } };
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new HttpError(400, `the query parameter "${name}" must be given once`);
}

function statusJSON(status: RegistryStatus) {
  return {
    ...status,
    fetchedAt: iso(status.fetchedAt),
    expiresAt: iso(status.expiresAt),
    refreshAt: iso(status.refreshAt),
    nextRetryAt: iso(status.nextRetryAt),
    lastError: status.lastError && { message: status.lastError.message, at: iso(status.lastError.at) },
  };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function queryRegistry(value: unknown): string {
  if (typeof value !== 'string' || registryKey(value) === '') {
    throw new HttpError(400, 'the query parameter "registry" must name one registry');
  }
  return value;
}

function listOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map(queryRegistry);
}

function reloadEnv(body: unknown): Record<string, string> | undefined {
  const env = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).env : undefined;
  if (env === undefined) return undefined;
  if (env === null || typeof env !== 'object' || Object.values(env).some((value) => typeof value !== 'string')) {
    throw new HttpError(400, 'the body must be {"env": {"NAME": "value", …}}');
  }
  return env as Record<string, string>;
}

function bodyRegistry(body: unknown): string {
  const registry = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).registry : undefined;
  if (typeof registry !== 'string' || registryKey(registry) === '') {
    throw new HttpError(400, 'the body must be {"registry": "<registry host>"}');
  }
  return registry;
}

/** Times every request into the metrics, labelled by endpoint (never by raw path: unbounded). */
function observe(options: AppOptions) {
  const routes = new Set([
    '/healthz',
    '/metrics',
    '/v1/status',
    '/v1/credentials',
    '/v1/invalidate',
    '/v1/dockercfg',
    '/v1/reload',
    '/v1/shutdown',
  ]);
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const route = routes.has(req.path) ? req.path : 'other';
      options.metrics.observe(route, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

/** Answers 503 when a request outlives its deadline; a shared refresh it waited on carries on. */
function deadline(timeoutMs: number) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const timer = setTimeout(() => {
      if (!res.headersSent) res.status(503).json({ error: `request timed out after ${timeoutMs / 1000}s` });
    }, timeoutMs);
    res.once('close', () => clearTimeout(timer));
    next();
  };
}

function requireAuth(auth: { token: string; hosts: readonly string[] }) {
  const expected = digest(`Bearer ${auth.token}`);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!auth.hosts.includes((req.headers.host ?? '').toLowerCase())) {
      throw new HttpError(421, 'unexpected Host header');
    }
    if (!timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      throw new HttpError(401, 'missing or wrong bearer token');
    }
    next();
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof HttpError) return err.status;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof UsageError) return 400;
  if (err instanceof ProviderError || err instanceof AllFailedError) return 502;
  // body-parser's errors (too large, malformed JSON) are meant to be shown to the client.
  const http = err as { status?: unknown; expose?: unknown };
  if (http?.expose === true && typeof http.status === 'number' && http.status >= 400 && http.status < 500) return http.status;
  if (err instanceof BerthError) return 500;
  return undefined;
}

function errorHandler(log: (line: string) => void) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Already answered (the deadline passed first): the late result has nowhere to go.
    if (res.headersSent) return;
    const status = statusOf(err);
    if (status === undefined) log(`error: internal error: ${oneLine(err)}`); // `berth: error: …` in the daemon log
    if (status === 401) res.set('WWW-Authenticate', 'Bearer');
    res.status(status ?? 500).json({ error: status === undefined ? 'internal error' : oneLine(err) });
  };
}
