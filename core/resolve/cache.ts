/**
 * @module
 * The on-disk credential cache that wraps providers (never written into them): short-lived tokens
 * in one encrypted entries file (core/crypto/entries-file.ts, shared with the file store), keyed by
 * registry + identity, mode 0600, replaced atomically under a lock so concurrent writers never lose
 * an entry. A token within a margin of its expiry counts as expired; an unreadable cache is an
 * empty cache (with a note).
 */
import { join } from '../io/path.js';
import type { RegistryConfig } from '../config/load.js';
import type { Credential } from '../credential.js';
import { sha256Hex } from '../crypto/digest.js';
import { entriesFile, stringField } from '../crypto/entries-file.js';
import { BerthError, oneLine } from '../errors.js';
import type { Provider, ProviderModule, ProviderRequest } from '../providers/provider.js';
import { registryKey } from '../registry-host.js';

export const CACHE_FILE_NAME = 'credentials.berth';
export const CACHE_KEY_FILE_NAME = 'cache.aes';

/** Never hand out a token in its last minutes: a pull that starts with it must finish with it. */
const MAX_MARGIN_MS = 5 * 60_000;
/** Short-lived tokens (tests, benchmarks) get a margin in proportion to their life. */
const MARGIN_FRACTION = 0.1;

export interface CredentialCache {
  /** A cached credential that is not within the margin of its expiry, else undefined. */
  get(key: string): Promise<Credential | undefined>;
  /** Keeps a credential; credentials that never expire (static) are not cached. */
  put(key: string, credential: Credential): Promise<void>;
}

export interface CacheOptions {
  /** The directory of the cache file (created 0700). */
  dir: string;
  /** The key file; created on first write. */
  keyPath: string;
  now: () => number;
  /** Notes for the user (an unreadable cache); one line each, never a secret. */
  warn?: (message: string) => void;
}

interface Entry {
  username: string;
  secret: string;
  expiresAt: string;
  obtainedAt: string;
}

function checkEntry(value: unknown): Entry {
  const entry = {
    username: stringField(value, 'username'),
    secret: stringField(value, 'secret'),
    expiresAt: stringField(value, 'expiresAt'),
    obtainedAt: stringField(value, 'obtainedAt'),
  };
  if (Number.isNaN(Date.parse(entry.expiresAt)) || Number.isNaN(Date.parse(entry.obtainedAt))) throw new Error('bad date');
  return entry;
}

/** True while `now` is before the expiry less the margin. */
export function isFresh(entry: { expiresAt: string; obtainedAt: string }, now: number): boolean {
  const expiresAt = Date.parse(entry.expiresAt);
  const life = expiresAt - Date.parse(entry.obtainedAt);
  const margin = Math.min(MAX_MARGIN_MS, Math.max(0, life) * MARGIN_FRACTION);
  return now < expiresAt - margin;
}

export function openCredentialCache(options: CacheOptions): CredentialCache {
  const path = join(options.dir, CACHE_FILE_NAME);
  const file = entriesFile({
    path,
    keyPath: options.keyPath,
    what: 'the credential cache',
    checkEntry,
    // A missing key is an empty cache; an unreadable file one too, with a note, and the next put replaces it.
    onUnreadable: (err) => {
      if (err.reason === 'unreadable') options.warn?.(`${err.message}; starting an empty one`);
    },
  });
  return {
    async get(key) {
      const entry = (await file.read())[key];
      if (!entry || !isFresh(entry, options.now())) return undefined;
      return { username: entry.username, secret: entry.secret, expiresAt: new Date(entry.expiresAt) };
    },
    async put(key, credential) {
      const { expiresAt } = credential;
      if (!expiresAt) return;
      // loaded on a write only: a `get` answered from the cache never pays for node:fs/promises
      const { mkdir } = await import('node:fs/promises');
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
      await file.update((entries) => {
        const now = options.now();
        for (const name of Object.keys(entries)) if (!isFresh(entries[name]!, now)) delete entries[name];
        entries[key] = {
          username: credential.username,
          secret: credential.secret,
          expiresAt: expiresAt.toISOString(),
          obtainedAt: new Date(now).toISOString(),
        };
      });
    },
  };
}

/**
 * The cache key of a registry's credential: the registry, the provider, and who the credential is
 * for — the provider's identity when it names one (account, role), else a hash of the settings.
 * Never an access key id: rotating keys must not miss the cache or leak into it.
 */
export async function cacheKeyFor(registry: RegistryConfig, module: ProviderModule, request: ProviderRequest): Promise<string> {
  const identity = module.identity ? await module.identity(request) : `settings:${await settingsHash(request, module.identityEnv ?? [])}`;
  return `${registryKey(registry.host)} ${registry.provider} ${identity}`;
}

/** A hash of the options and the identity-bearing variables: equal settings, equal key; no value readable. */
async function settingsHash({ options, env }: ProviderRequest, identityEnv: readonly string[]): Promise<string> {
  const sorted = (entries: [string, unknown][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const variables = identityEnv.map((name): [string, unknown] => [name, env[name] ?? null]);
  const canonical = JSON.stringify([sorted(Object.entries(options)), sorted(variables)]);
  return (await sha256Hex(canonical)).slice(0, 32);
}

/**
 * A provider that answers from the cache while the token is fresh and asks `provider` otherwise.
 * A cache that cannot be written does not fail the request: the credential is still good.
 */
export function withCache(
  provider: Provider,
  cache: CredentialCache,
  keyOf: (request: ProviderRequest) => Promise<string>,
  warn?: (message: string) => void,
): Provider {
  return async (request) => {
    const key = await keyOf(request);
    const cached = await cache.get(key);
    if (cached) return cached;
    const credential = await provider(request);
    await cache.put(key, credential).catch((err: unknown) => {
      // Our own errors name the cache already (its lock, its key file); a bare one is from writing it.
      warn?.(err instanceof BerthError ? oneLine(err) : `cannot update the credential cache: ${oneLine(err)}`);
    });
    return credential;
  };
}
