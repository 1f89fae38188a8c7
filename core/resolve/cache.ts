/**
 * @module
 * The on-disk credential cache that wraps providers (never written into them): one file of
 * short-lived tokens, encrypted in the berth file format, keyed by registry + identity, mode 0600,
 * replaced atomically under a lock so concurrent writers never lose an entry. A token within a
 * margin of its expiry counts as expired; an unreadable cache is an empty cache (with a note).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryConfig } from '../config/load.js';
import { UsageError, oneLine } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ProviderModule } from '../providers/index.js';
import type { Credential, Provider, ProviderRequest } from '../providers/provider.js';
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
type Entries = Record<string, Entry>;

/** The decrypted file's entries. It is authenticated, so only its shape is checked, not its origin. */
function parseEntries(text: string): Entries {
  const file = JSON.parse(text) as { version?: unknown; entries?: unknown };
  if (file.version !== 1 || typeof file.entries !== 'object' || file.entries === null) throw new Error('not a version 1 cache');
  // Keys come from users (a registry named `__proto__` is still a key): no prototype to collide with.
  const entries: Entries = Object.create(null);
  for (const [key, value] of Object.entries(file.entries as Record<string, Partial<Entry>>)) {
    const fields = [value?.username, value?.secret, value?.expiresAt, value?.obtainedAt];
    if (!fields.every((field) => typeof field === 'string')) throw new Error(`entry ${JSON.stringify(key)} is malformed`);
    if (Number.isNaN(Date.parse(value.expiresAt!)) || Number.isNaN(Date.parse(value.obtainedAt!)))
      throw new Error(`entry ${JSON.stringify(key)} has a bad date`);
    entries[key] = value as Entry;
  }
  return entries;
}

/** True while `now` is before the expiry less the margin. */
export function isFresh(entry: { expiresAt: string; obtainedAt: string }, now: number): boolean {
  const expiresAt = Date.parse(entry.expiresAt);
  const life = expiresAt - Date.parse(entry.obtainedAt);
  const margin = Math.min(MAX_MARGIN_MS, Math.max(0, life) * MARGIN_FRACTION);
  return now < expiresAt - margin;
}

export function openCredentialCache(options: CacheOptions): CredentialCache {
  const file = join(options.dir, CACHE_FILE_NAME);
  return {
    async get(key) {
      const keyBytes = await readCacheKey(options.keyPath);
      if (!keyBytes) return undefined;
      const entry = (await readEntries(file, keyBytes, options))[key];
      if (!entry || !isFresh(entry, options.now())) return undefined;
      return { username: entry.username, secret: entry.secret, expiresAt: new Date(entry.expiresAt) };
    },
    async put(key, credential) {
      if (!credential.expiresAt) return;
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
      const keyBytes = await ensureCacheKey(options.keyPath);
      // Loaded on writes only: a warm `get` reads the cache and never locks.
      const { default: lockfile } = await import('proper-lockfile');
      const release = await lockfile.lock(file, {
        realpath: false,
        stale: 10_000,
        retries: { retries: 50, factor: 1.5, minTimeout: 10, maxTimeout: 250, randomize: true },
      });
      try {
        const entries = await readEntries(file, keyBytes, options);
        const now = options.now();
        for (const [name, entry] of Object.entries(entries)) if (!isFresh(entry, now)) delete entries[name];
        entries[key] = {
          username: credential.username,
          secret: credential.secret,
          expiresAt: credential.expiresAt.toISOString(),
          obtainedAt: new Date(now).toISOString(),
        };
        const { encryptBuffer } = await import('../crypto/format.js');
        const plaintext = Buffer.from(JSON.stringify({ version: 1, entries }));
        await writeFileAtomic(file, await encryptBuffer(plaintext, [keyBytes]), { mode: 0o600 });
      } finally {
        await release();
      }
    },
  };
}

/** The cache's entries; a missing file is empty, an unreadable one is empty with a note. */
async function readEntries(file: string, key: Buffer, options: CacheOptions): Promise<Entries> {
  let sealed: Buffer;
  try {
    sealed = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Object.create(null);
    options.warn?.(`cannot read the credential cache ${file} (${oneLine(err)}); not using it`);
    return Object.create(null);
  }
  try {
    const { decryptBuffer } = await import('../crypto/format.js');
    return parseEntries((await decryptBuffer(sealed, key)).toString('utf8'));
  } catch (err) {
    options.warn?.(`the credential cache ${file} is unreadable (${oneLine(err)}); starting an empty one`);
    return Object.create(null);
  }
}

async function readCacheKey(keyPath: string): Promise<Buffer | undefined> {
  const { readKeyFile } = await import('../crypto/key.js');
  try {
    return await readKeyFile(keyPath);
  } catch {
    return undefined; // no key yet (or a broken one): nothing cached can be read; put() replaces it
  }
}

/** The cache's key, created on first use; two processes racing to create it agree on the winner's. */
async function ensureCacheKey(keyPath: string): Promise<Buffer> {
  const existing = await readCacheKey(keyPath);
  if (existing) return existing;
  const { generateKey, readKeyFile, writeKeyFile } = await import('../crypto/key.js');
  const key = generateKey();
  try {
    await writeKeyFile(keyPath, key);
    return key;
  } catch (err) {
    if (err instanceof UsageError) return readKeyFile(keyPath); // another writer created it first
    throw err;
  }
}

/**
 * The cache key of a registry's credential: the registry, the provider, and who the credential is
 * for — the provider's identity when it names one (account, role), else a hash of the settings.
 * Never an access key id: rotating keys must not miss the cache or leak into it.
 */
export async function cacheKeyFor(registry: RegistryConfig, module: ProviderModule, request: ProviderRequest): Promise<string> {
  const identity = module.identity ? await module.identity(request) : `settings:${settingsHash(request, module.identityEnv ?? [])}`;
  return `${registryKey(registry.host)} ${registry.provider} ${identity}`;
}

/** A hash of the options and the identity-bearing variables: equal settings, equal key; no value readable. */
function settingsHash({ options, env }: ProviderRequest, identityEnv: readonly string[]): string {
  const sorted = (entries: [string, unknown][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const variables = identityEnv.map((name): [string, unknown] => [name, env[name] ?? null]);
  const canonical = JSON.stringify([sorted(Object.entries(options)), sorted(variables)]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
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
    await cache.put(key, credential).catch((err: unknown) => warn?.(`cannot update the credential cache: ${oneLine(err)}`));
    return credential;
  };
}
