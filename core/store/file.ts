/**
 * @module
 * The `file` store, berth's default: every entry in one encrypted entries file (core/crypto/
 * entries-file.ts) under the XDG data directory, with a random key file beside it created on first
 * use (0600). Writers take a lock and replace the file atomically, so any number of concurrent
 * `docker login`s keep every entry; readers take no lock (they see the old file or the new one).
 */
import { join } from '../io/path.js';
import { entriesFile, stringField, type EntriesFile } from '../crypto/entries-file.js';
import { BerthError, StoreError, oneLine } from '../errors.js';
import { berthDataDir } from '../paths.js';
import type { Credential, Store, StoreContext } from './store.js';

export const STORE_FILE = 'credentials.berth';
export const KEY_FILE = 'store.key';

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
  const file = entriesFile<Credential>({
    path: paths.storePath,
    keyPath: paths.keyPath,
    what: 'the credential store',
    checkEntry: (value) => ({ username: stringField(value, 'username'), secret: stringField(value, 'secret') }),
  });
  const read = () => storeErrors(paths, () => file.read());
  return {
    name: 'file',
    async get(key) {
      const entries = await read();
      return Object.hasOwn(entries, key) ? entries[key] : undefined;
    },
    async list() {
      return Object.fromEntries(Object.entries(await read()).map(([key, entry]) => [key, entry.username]));
    },
    set: (key, credential) =>
      update(paths, file, (entries) => {
        entries[key] = { username: credential.username, secret: credential.secret };
      }),
    erase: (key) =>
      update(paths, file, (entries) => {
        delete entries[key];
      }),
  };
}

async function update(paths: FileStorePaths, file: EntriesFile<Credential>, change: (entries: Record<string, Credential>) => void) {
  try {
    await file.update(change);
  } catch (err) {
    // Our own errors say what failed (the key file, the lock); a bare one comes from writing the file.
    const message = err instanceof BerthError ? oneLine(err) : `cannot write ${paths.storePath}: ${oneLine(err)}`;
    throw storeError(paths, message, err);
  }
}

async function storeErrors<T>(paths: FileStorePaths, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw storeError(paths, oneLine(err), err);
  }
}

function storeError(paths: FileStorePaths, message: string, cause?: unknown): StoreError {
  return new StoreError(message, {
    cause,
    hint: `the file store lives in ${paths.dir}; \`berth doctor\` checks it`,
  });
}
