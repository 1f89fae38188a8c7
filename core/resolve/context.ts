/**
 * @module
 * Resolving for a running process: the config file from the environment, the credential cache in
 * its usual place (or a given directory), the registration table, the real clock. The helper's
 * `get`, `berth generate`, `berth registries test` and the generator images all start here.
 */
import { join } from 'node:path';
import { openCredentialCache, CACHE_KEY_FILE_NAME, type CredentialCache } from './cache.js';
import { loadConfig } from '../config/load.js';
import { NotFoundError } from '../errors.js';
import { berthCacheDir, berthDataDir, type Env } from '../paths.js';
import type { Credentials } from '../store/store.js';
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

export async function resolveContextFor(env: Env, location: CacheLocation, warn: (line: string) => void): Promise<ResolveContext> {
  const { config } = await loadConfig(env, { lenient: true });
  const now = () => Date.now();
  return { env, config, now, cache: processCache(env, location, now, warn), warn };
}

/**
 * The helper's resolve: credentials for a configured or recognised cloud registry, undefined for
 * any other host. A failure becomes not-found (clients need that exact text) carrying the reason,
 * which the helper prints on stderr.
 */
export async function resolveForHelper(
  serverURL: string,
  env: Env,
  stderr: { write(text: string): unknown },
): Promise<Credentials | undefined> {
  const warn = (line: string) => stderr.write(`berth: warning: ${line}\n`);
  try {
    const resolved = await resolveServerURL(serverURL, await resolveContextFor(env, {}, warn));
    if (!resolved) return undefined;
    return { serverURL, username: resolved.credential.username, secret: resolved.credential.secret };
  } catch (err) {
    throw new NotFoundError({ cause: err });
  }
}
