/**
 * @module
 * The Store interface every credential backend implements. The backends and the choice of the
 * active one live in ./index.ts; this file imports none of them.
 */
import type { Credential } from '../credential.js';
import type { Env } from '../paths.js';

export type { Credential } from '../credential.js';

/** Every backend's name; ./index.ts maps each to its file. */
export const STORE_NAMES = ['file', 'keychain', 'pass'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

/** A place to keep credentials. Keys are `registryKey()`s; the store never sees other spellings. */
export interface Store {
  readonly name: StoreName;
  /** Adds or replaces the entry for `key`. A stored credential does not expire (`expiresAt` is not kept). */
  set(key: string, credential: Credential): Promise<void>;
  /** The entry, or undefined when there is none. */
  get(key: string): Promise<Credential | undefined>;
  /** Removes the entry; an absent entry is not an error. */
  erase(key: string): Promise<void>;
  /** Every key with its username. */
  list(): Promise<Record<string, string>>;
}

export interface StoreContext {
  env: Env;
}
