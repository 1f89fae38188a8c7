/**
 * @module
 * The `file` store, berth's default: every entry in one file encrypted with the berth format
 * (AES-256-GCM), under the XDG data directory, with a random key file beside it created on first
 * use (0600). Writers take a lock and replace the file atomically, so any number of concurrent
 * `docker login`s keep every entry; readers take no lock (they see the old file or the new one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, StoreError, oneLine } from '../errors.js';
import { berthDataDir } from '../paths.js';
import type { Credentials, Store, StoreContext } from './store.js';

// The crypto, the key file and the writing modules are imported where they are used: a `get` of a
// registry the store does not hold, with no store file yet (a daemon's user), needs none of them,
// and a `get` that decrypts needs none of the writing ones.

export const STORE_FILE = 'credentials.berth';
export const KEY_FILE = 'store.key';

interface StoreFile {
  version: 1;
  entries: Record<string, Credentials>;
}

export interface FileStorePaths {
  dir: string;
  storePath: string;
  keyPath: string;
}

export function fileStorePaths(ctx: StoreContext): FileStorePaths {
  const dir = berthDataDir(ctx.env);
  return { dir, storePath: join(dir, STORE_FILE), keyPath: join(dir, KEY_FILE) };
}

export async function openFileStore(ctx: StoreContext): Promise<Store> {
  const paths = fileStorePaths(ctx);
  return {
    name: 'file',
    async get(key) {
      const entries = await readEntries(paths);
      return entries[key];
    },
    async list() {
      const entries = await readEntries(paths);
      return Object.fromEntries(Object.entries(entries).map(([key, entry]) => [key, entry.username]));
    },
    async set(key, credentials) {
      await update(ctx, paths, (entries) => {
        entries[key] = { serverURL: credentials.serverURL, username: credentials.username, secret: credentials.secret };
      });
    },
    async erase(key) {
      await update(ctx, paths, (entries) => {
        delete entries[key];
      });
    },
  };
}

/** The key, or undefined when none was ever made (an empty store). */
async function loadKey(paths: FileStorePaths): Promise<Buffer | undefined> {
  let text: string;
  try {
    // Synchronous on purpose, here and below: `get` reads two small files, and node:fs/promises
    // costs more to load than the reads take.
    text = readFileSync(paths.keyPath, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw storeError(paths, `cannot read the key file ${paths.keyPath}: ${oneLine(err)}`, err);
  }
  const { parseKey } = await import('../crypto/key.js');
  try {
    return parseKey(text, paths.keyPath);
  } catch (err) {
    throw storeError(paths, oneLine(err), err);
  }
}

/** The key, made on first use. Two first writers racing both end up with the one that won. */
async function loadOrCreateKey(paths: FileStorePaths): Promise<Buffer> {
  const existing = await loadKey(paths);
  if (existing) return existing;
  const { generateKey, writeKeyFile } = await import('../crypto/key.js');
  try {
    await writeKeyFile(paths.keyPath, generateKey(), { force: false });
  } catch (err) {
    if (!existsSync(paths.keyPath)) {
      throw storeError(paths, `cannot create the key file ${paths.keyPath}: ${oneLine(err)}`, err);
    }
  }
  const created = await loadKey(paths);
  if (!created) throw storeError(paths, `the key file ${paths.keyPath} vanished while it was created`);
  return created;
}

async function readEntries(paths: FileStorePaths, key?: Buffer): Promise<Record<string, Credentials>> {
  let sealed: Buffer;
  try {
    sealed = readFileSync(paths.storePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Object.create(null);
    throw storeError(paths, `cannot read ${paths.storePath}: ${oneLine(err)}`, err);
  }
  const storeKey = key ?? (await loadKey(paths));
  if (!storeKey) {
    throw storeError(paths, `${paths.storePath} exists but its key file ${paths.keyPath} is missing`);
  }
  const { decryptBuffer } = await import('../crypto/format.js');
  let parsed: StoreFile;
  try {
    parsed = JSON.parse(decryptBuffer(sealed, storeKey).toString('utf8')) as StoreFile;
  } catch (err) {
    const reason = err instanceof BerthError ? err.message : `not valid JSON (${oneLine(err)})`;
    throw storeError(paths, `cannot open the credential store ${paths.storePath}: ${reason}`, err);
  }
  if (parsed?.version !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) {
    throw storeError(paths, `${paths.storePath} is not a berth credential store (unknown layout)`);
  }
  // Keys are whatever a client sent as ServerURL (`__proto__` included): a map without a
  // prototype stores and finds every one of them.
  return Object.assign(Object.create(null), parsed.entries);
}

async function update(ctx: StoreContext, paths: FileStorePaths, change: (entries: Record<string, Credentials>) => void): Promise<void> {
  const key = await loadOrCreateKey(paths);
  const [{ encryptBuffer }, { writeFileAtomic }, { withStoreLock }] = await Promise.all([
    import('../crypto/format.js'),
    import('../io/atomic.js'),
    import('../io/lock.js'),
  ]);
  await withStoreLock(ctx.env, 'file', async () => {
    const entries = await readEntries(paths, key);
    change(entries);
    const plaintext = Buffer.from(JSON.stringify({ version: 1, entries } satisfies StoreFile));
    try {
      await writeFileAtomic(paths.storePath, encryptBuffer(plaintext, [key]), { mode: 0o600 });
    } catch (err) {
      throw storeError(paths, `cannot write ${paths.storePath}: ${oneLine(err)}`, err);
    }
  });
}

/** The errno code of an error or of the error it wraps. */
function errnoCode(err: unknown): string | undefined {
  const own = (err as NodeJS.ErrnoException | undefined)?.code;
  return own ?? (err as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code;
}

function storeError(paths: FileStorePaths, message: string, cause?: unknown): StoreError {
  return new StoreError(message, {
    cause,
    hint: `the file store lives in ${paths.dir}; \`berth doctor\` checks it`,
  });
}
