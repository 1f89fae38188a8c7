/**
 * @module
 * The Store interface every credential backend implements, and how the active backend is chosen:
 * `BERTH_STORE`, else the config file's `store`, else `file`. Adding a backend is one new file and one
 * line in `backends` below. The default `file` backend is loaded with the helper; the others only
 * when chosen, so the helper's start-up never pays for a backend it does not use.
 */
import type { Env } from '../paths.js';
import { UsageError } from '../errors.js';
import { openFileStore } from './file.js';

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

type StoreFactory = (ctx: StoreContext) => Promise<Store>;

const backends = {
  // The default store is on nearly every `get`: load it with the helper rather than as one more file.
  file: openFileStore,
  keychain: async (ctx) => (await import('./keychain.js')).openKeychainStore(ctx),
  pass: async (ctx) => (await import('./pass.js')).openPassStore(ctx),
} satisfies Record<string, StoreFactory>;

export type StoreName = keyof typeof backends;
export const STORE_NAMES = Object.keys(backends) as StoreName[];

export function isStoreName(name: string): name is StoreName {
  return Object.hasOwn(backends, name);
}

/** Which store is active, and why (for `berth doctor`). */
export interface StoreChoice {
  name: StoreName;
  reason: string;
}

export function chooseStore(env: Env, configuredStore: string | undefined): StoreChoice {
  if (env.BERTH_STORE) {
    if (!isStoreName(env.BERTH_STORE)) {
      throw new UsageError(`BERTH_STORE=${env.BERTH_STORE} is not a store`, {
        hint: `use one of: ${STORE_NAMES.join(', ')}`,
      });
    }
    return { name: env.BERTH_STORE, reason: 'BERTH_STORE is set' };
  }
  if (configuredStore !== undefined) {
    if (!isStoreName(configuredStore)) {
      throw new UsageError(`the config file's store "${configuredStore}" is not a store`, {
        hint: `use one of: ${STORE_NAMES.join(', ')}`,
      });
    }
    return { name: configuredStore, reason: 'set in the config file' };
  }
  return { name: 'file', reason: 'the default' };
}

export function openStore(name: StoreName, ctx: StoreContext): Promise<Store> {
  return backends[name](ctx);
}
