/**
 * @module
 * Opens the store the user chose (`BERTH_STORE`, else the config file, else `file`).
 */
import { loadConfig } from '../config/load.js';
import type { Env } from '../paths.js';
import { chooseStore, openStore, type Store, type StoreChoice } from './store.js';

export async function activeStoreChoice(env: Env): Promise<StoreChoice> {
  if (env.BERTH_STORE) return chooseStore(env, undefined);
  const { config } = await loadConfig(env);
  return chooseStore(env, config.store);
}

export async function openActiveStore(env: Env): Promise<Store> {
  const choice = await activeStoreChoice(env);
  return openStore(choice.name, { env });
}
