/**
 * @module
 * Resolving for a running process: the config file from the environment, the credential cache in
 * its usual place (or a given directory), the registration table, the real clock. The helper's
 * `get`, `berth generate`, `berth registries test` and the generator images all start here.
 */
import { join } from '../io/path.js';
import { openCredentialCache, CACHE_KEY_FILE_NAME, type CredentialCache } from './cache.js';
import { loadConfig, type Config, type ConfigLoader } from '../config/load.js';
import { AllFailedError, NotFoundError } from '../errors.js';
import { NoIdentityError } from '../providers/provider.js';
import { registryKey } from '../registry-host.js';
import { berthCacheDir, berthDataDir, type Env } from '../paths.js';
import type { Credential } from '../credential.js';
import { resolveServerURL, type ResolveContext } from './resolve.js';

export interface CacheLocation {
  /** A cache directory chosen by the user (`--cache-dir`, `BERTH_CACHE_DIR`); its key lives inside it. */
  cacheDir?: string;
  /** A key file elsewhere than the cache directory. */
  keyPath?: string;
}

/**
 * The credential cache. By default the tokens live under the XDG cache dir and their key under the
 * data dir, so a cache directory that leaks (CI caches, backups) leaks no usable token. A chosen
 * directory keeps its key with it, so it can be mounted into a container and still be read.
 */
export function processCache(env: Env, location: CacheLocation, now: () => number, warn: (line: string) => void): CredentialCache {
  const dir = location.cacheDir ?? berthCacheDir(env);
  const keyPath =
    location.keyPath ?? (location.cacheDir ? join(location.cacheDir, CACHE_KEY_FILE_NAME) : join(berthDataDir(env), CACHE_KEY_FILE_NAME));
  return openCredentialCache({ dir, keyPath, now, warn });
}

/**
 * The context to resolve in; each skipped part of the config file is reported once through `warn`.
 * `load`: the config as the caller has it already.
 */
export async function resolveContextFor(
  env: Env,
  location: CacheLocation,
  warn: (line: string) => void,
  load: ConfigLoader = () => loadConfig(env, { lenient: true }),
): Promise<ResolveContext> {
  const { config, problems } = await load();
  for (const problem of problems) warn(problem);
  const now = () => Date.now();
  return { env, config, now, cache: processCache(env, location, now, warn), warn };
}

/**
 * The helper's resolve: credentials for a configured or recognised cloud registry, undefined for
 * any other host. A failure becomes not-found (clients need that exact text) carrying the reason,
 * which the helper prints on stderr — except for a cloud host berth was never configured for when
 * the environment has no identity for that cloud at all: that is an anonymous pull of a public
 * image (Docker Hub, public.ecr.aws, gcr.io), and a line on every pull would only be noise.
 */
export async function resolveForHelper(
  serverURL: string,
  env: Env,
  warn: (line: string) => void,
  load?: ConfigLoader,
): Promise<Credential | undefined> {
  const ctx = await resolveContextFor(env, {}, warn, load);
  try {
    const resolved = await resolveServerURL(serverURL, ctx);
    return resolved?.credential;
  } catch (err) {
    if (isAnonymousPull(serverURL, ctx.config, err)) return undefined;
    throw new NotFoundError({ cause: err });
  }
}

/**
 * A failed resolve that is an anonymous pull, not a problem to report: the host is not configured
 * (only recognised as a cloud's) and the environment holds no identity for that cloud at all.
 */
export function isAnonymousPull(serverURL: string, config: Config, err: unknown): boolean {
  const configured = (config.registries ?? []).some((registry) => registryKey(registry.host) === registryKey(serverURL));
  return !configured && err instanceof AllFailedError && err.reasons.every((reason) => reason.cause instanceof NoIdentityError);
}
