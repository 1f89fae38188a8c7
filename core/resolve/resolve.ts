/**
 * @module
 * From a server URL to a credential: pick the registry configuration that applies (a configured
 * registry by host, repository prefix and `default`; else a cloud registry recognised by its host),
 * call its provider through the credential cache with a small bounded retry, and stand in the
 * `fallback` registry when the provider keeps failing. When everything fails, every reason is kept.
 */
import type { Config, RegistryConfig } from '../config/load.js';
import { AllFailedError, BerthError, ProviderError, UsageError, oneLine } from '../errors.js';
import { loadPackage } from '../io/packages.js';
import type { Env } from '../paths.js';
import { PROVIDERS, detectProvider, type ProviderLoader, type ProviderName } from '../providers/index.js';
import { NotMyRegistryError, type Credential, type ProviderRequest, type ServiceAccountIdentity } from '../providers/provider.js';
import { registryHost, registryKey, splitServerURL } from '../registry-host.js';
import { cacheKeyFor, withCache, type CredentialCache } from './cache.js';

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/** Three attempts within about two seconds: enough for a flaky network, short enough for a pull. */
export const DEFAULT_RETRY: RetryPolicy = { retries: 2, minTimeoutMs: 250, maxTimeoutMs: 1_500 };

export interface ResolveContext {
  env: Env;
  config: Config;
  now: () => number;
  /** Where providers come from (the registration table; tests pass fakes). */
  providers?: Readonly<Record<ProviderName, ProviderLoader>>;
  detect?: (serverURL: string) => ProviderName | undefined;
  cache?: CredentialCache;
  retry?: RetryPolicy;
  /** False when the caller handles `fallback` itself (the daemon's token cache). Default true. */
  followFallbacks?: boolean;
  /** Progress for a log: which registry is being asked, and retries. Never given a secret. */
  onProgress?: (message: string) => void;
  /** Notes that do not stop the resolve (a cache that cannot be written). */
  warn?: (message: string) => void;
  /** The service account a credential is resolved for (kubelet service-account-token mode); never cached. */
  serviceAccount?: ServiceAccountIdentity;
}

export interface Resolved {
  registry: RegistryConfig;
  credential: Credential;
  /** The registry whose provider produced the credential: `registry` or one of its fallbacks. */
  from: RegistryConfig;
}

/** The configuration for a server URL, or undefined when berth has none and recognises no cloud host. */
export function pickRegistry(
  serverURL: string,
  config: Config,
  detect: (serverURL: string) => ProviderName | undefined = detectProvider,
): RegistryConfig | undefined {
  const key = registryKey(serverURL);
  if (key === '') return undefined;
  const candidates = (config.registries ?? []).filter((registry) => registryKey(registry.host) === key);
  const path = repositoryPath(serverURL);
  const byPrefix = candidates
    .filter((registry) => registry.prefix !== undefined && underPrefix(path, registry.prefix))
    .sort((a, b) => trimSlashes(b.prefix ?? '').length - trimSlashes(a.prefix ?? '').length);
  const unscoped = candidates.filter((registry) => registry.prefix === undefined);
  const chosen =
    byPrefix[0] ??
    unscoped.find((registry) => registry.default) ??
    unscoped[0] ??
    candidates.find((registry) => registry.default) ??
    candidates[0];
  if (chosen) return chosen;
  const provider = detect(serverURL);
  return provider === undefined ? undefined : { name: registryHost(serverURL), provider, host: registryHost(serverURL) };
}

function repositoryPath(serverURL: string): string {
  const { path } = splitServerURL(serverURL);
  // docker names Docker Hub `https://index.docker.io/v1/`: an API version, not a repository
  return /^v[12]$/.test(path) ? '' : path;
}

/** A path or prefix with no slash at either end. */
export function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}

function underPrefix(path: string, prefix: string): boolean {
  const wanted = trimSlashes(prefix);
  return wanted === '' || path === wanted || path.startsWith(`${wanted}/`);
}

/** Resolves a server URL; undefined when no configuration applies to it. */
export async function resolveServerURL(serverURL: string, ctx: ResolveContext): Promise<Resolved | undefined> {
  const registry = pickRegistry(serverURL, ctx.config, ctx.detect);
  return registry === undefined ? undefined : resolveRegistry(registry, ctx);
}

/** Resolves one registry configuration, following its fallbacks; throws AllFailedError with every reason. */
export async function resolveRegistry(registry: RegistryConfig, ctx: ResolveContext): Promise<Resolved> {
  const reasons: Error[] = [];
  const tried = new Set<string>();
  const next = (current: RegistryConfig) => (ctx.followFallbacks === false ? undefined : fallbackOf(current, ctx.config));
  for (let current: RegistryConfig | undefined = registry; current; current = next(current)) {
    if (tried.has(current.name)) break; // a fallback cycle: each registry is asked once
    tried.add(current.name);
    if (current !== registry) ctx.onProgress?.(`${registry.name}: trying fallback ${current.name}`);
    try {
      return { registry, credential: await resolveOne(current, ctx), from: current };
    } catch (err) {
      reasons.push(labelled(current, err));
    }
  }
  const hint = reasons.map((reason) => (reason as BerthError).hint).find((hint) => hint !== undefined);
  throw new AllFailedError(`no credentials for ${registryKey(registry.host)}`, reasons, hint === undefined ? {} : { hint });
}

function fallbackOf(registry: RegistryConfig, config: Config): RegistryConfig | undefined {
  if (registry.fallback === undefined) return undefined;
  return (config.registries ?? []).find((candidate) => candidate.name === registry.fallback);
}

/**
 * The reason with the registry in front, named once: its configured name and provider
 * (`prod (ecr): …`), or only the provider when the registry is a cloud host berth recognised by
 * itself (its name is its host, already said). The provider's hint is kept.
 */
function labelled(registry: RegistryConfig, err: unknown): BerthError {
  const label = registry.name === registryHost(registry.host) ? registry.provider : `${registry.name} (${registry.provider})`;
  const hint = err instanceof BerthError || err instanceof NotMyRegistryError ? err.hint : undefined;
  return new ProviderError(`${label}: ${oneLine(err)}`, { cause: err, hint });
}

async function resolveOne(registry: RegistryConfig, ctx: ResolveContext): Promise<Credential> {
  const module = await (ctx.providers ?? PROVIDERS)[registry.provider]();
  const request: ProviderRequest = {
    registryHost: registryHost(registry.host),
    options: registry.options ?? {},
    env: ctx.env,
    now: ctx.now,
    ...(ctx.serviceAccount ? { serviceAccount: ctx.serviceAccount } : {}),
  };
  // A token for a pod's service account is the kubelet's to cache (per service account), never ours.
  const provider =
    ctx.cache && !ctx.serviceAccount
      ? withCache(module.provider, ctx.cache, (req) => cacheKeyFor(registry, module, req), ctx.warn)
      : module.provider;
  ctx.onProgress?.(`${registry.name}: asking the ${registry.provider} provider for ${request.registryHost}`);
  return withRetry(
    () => provider(request),
    ctx.retry ?? DEFAULT_RETRY,
    (attempt, err) => ctx.onProgress?.(`${registry.name}: attempt ${attempt} failed (${oneLine(err)}); retrying`),
  );
}

interface ServiceErrorShape {
  name?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  status?: unknown;
  statusCode?: unknown;
  cause?: unknown;
}

/**
 * Errors no retry can fix: bad settings, a provider that does not handle the registry, a provider's
 * own verdict (a berth error with no underlying cause: a variable not set, an unreadable key file),
 * no credentials to sign with, or a service that refused the request (4xx but 408 and 429). Looks
 * through `cause`, where providers keep the SDK's error. Anything else may be passing.
 */
function isPermanent(err: unknown): boolean {
  if (!(err instanceof Error) || (err instanceof BerthError && err.cause === undefined)) return true;
  let current: unknown = err;
  for (let depth = 0; current && depth < 8; depth++, current = (current as ServiceErrorShape).cause) {
    if (current instanceof UsageError || current instanceof NotMyRegistryError) return true;
    const shape = current as ServiceErrorShape;
    if (shape.$retryable) return false; // AWS marks throttling and transient faults
    if (shape.$fault === 'client' || shape.name === 'CredentialsProviderError') return true;
    const status = shape.$metadata?.httpStatusCode ?? shape.statusCode ?? shape.status;
    if (typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429) return true;
  }
  return false;
}

/**
 * Exponential backoff with jitter (node-retry's `randomize`), bounded by `policy`. node-retry is
 * loaded only when the first attempt fails: a token from the cache never needs it.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (attempt: number, err: unknown) => void,
): Promise<T> {
  let firstFailure: unknown;
  try {
    return await attempt();
  } catch (err) {
    if (isPermanent(err)) throw err;
    firstFailure = err;
  }
  const retry = await loadPackage('retry');
  const operation = retry.operation({
    retries: policy.retries,
    factor: 2,
    minTimeout: policy.minTimeoutMs,
    maxTimeout: policy.maxTimeoutMs,
    randomize: true,
  });
  return new Promise<T>((resolve, reject) => {
    operation.attempt(async (count) => {
      try {
        // The first attempt was made above; node-retry counts it and schedules the next.
        if (count === 1) throw firstFailure;
        resolve(await attempt());
      } catch (err) {
        if (!isPermanent(err) && operation.retry(err as Error)) {
          onRetry?.(count, err);
          return;
        }
        reject(err);
      }
    });
  });
}
