/**
 * @module
 * The credential backends and the active one: `BERTH_STORE`, else the config file's `store`, else
 * `file`. Adding a backend is one new file and one line in `backends` below. The default `file`
 * backend is loaded with the helper; the others only when chosen, so the helper's start-up never pays
 * for a backend it does not use.
 */
import { loadConfig, type ConfigLoader } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { Env } from '../paths.js';
import { openFileStore } from './file.js';
import { STORE_NAMES, type Store, type StoreContext, type StoreName } from './store.js';

export { STORE_NAMES, type Store, type StoreName } from './store.js';

type StoreFactory = (ctx: StoreContext) => Promise<Store>;

const backends: Record<StoreName, StoreFactory> = {
  // The default store is on nearly every `get`: load it with the helper rather than as one more file.
  file: openFileStore,
  keychain: async (ctx) => (await import('./keychain.js')).openKeychainStore(ctx),
  pass: async (ctx) => (await import('./pass.js')).openPassStore(ctx),
};

export function isStoreName(name: string): name is StoreName {
  return (STORE_NAMES as readonly string[]).includes(name);
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

/**
 * `lenient`: read only the config file's `store` (the helper's start-up; see LoadOptions); `load`:
 * the config as the caller has it.
 */
export async function activeStoreChoice(
  env: Env,
  { lenient = false, load = () => loadConfig(env, { lenient }) }: { lenient?: boolean; load?: ConfigLoader } = {},
): Promise<StoreChoice> {
  if (env.BERTH_STORE) return chooseStore(env, undefined);
  const { config } = await load();
  return chooseStore(env, config.store);
}

export async function openActiveStore(env: Env, load?: ConfigLoader): Promise<Store> {
  const choice = await activeStoreChoice(env, { lenient: true, ...(load && { load }) });
  return openStore(choice.name, { env });
}
