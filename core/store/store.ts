/**
 * @module
 * The Store interface every credential backend implements. The backends and the choice of the
 * active one live in ./index.ts; this file imports none of them.
 */
import type { Env } from '../paths.js';

/** Every backend's name; ./index.ts maps each to its file. */
export const STORE_NAMES = ['file', 'keychain', 'pass'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

export interface Credentials {
  /** The server URL as the client gave it. */
  serverURL: string;
  username: string;
  secret: string;
}

/** A place to keep credentials. Keys are `registryKey()`s; the store never sees other spellings. */
export interface Store {
  readonly name: StoreName;
  /** Adds or replaces the entry for `credentials.serverURL`. */
  set(key: string, credentials: Credentials): Promise<void>;
  /** The entry, or undefined when there is none. */
  get(key: string): Promise<Credentials | undefined>;
  /** Removes the entry; an absent entry is not an error. */
  erase(key: string): Promise<void>;
  /** Every key with its username. */
  list(): Promise<Record<string, string>>;
}

export interface StoreContext {
  env: Env;
}
