/**
 * @module
 * Every registry berth knows: the ones logged in to (the active store's keys) and the ones named in
 * berth's config file. containers/image has no catch-all helper, so `berth configure` writes one
 * `credHelpers` entry per registry listed here.
 */
import { openActiveStore } from '../store/index.js';
import { loadConfig } from '../config/load.js';
import { oneLine } from '../errors.js';
import type { Env } from '../paths.js';
import { isDockerTokenKey, registryKey } from '../registry-host.js';
import { withTimeout } from '../io/timeout.js';

export interface KnownRegistries {
  registryKeys: string[];
  /** Why a source could not be read (the others still count). */
  problems: string[];
}

export const STORE_LIST_TIMEOUT_MS = 15_000;

export async function knownRegistries(env: Env): Promise<KnownRegistries> {
  const keys = new Set<string>();
  const problems: string[] = [];
  try {
    const { config, problems: skipped } = await loadConfig(env);
    problems.push(...skipped);
    for (const registry of config.registries ?? []) {
      const key = registryKey(registry.host);
      if (key !== '') keys.add(key);
    }
  } catch (err) {
    problems.push(oneLine(err));
  }
  try {
    const store = await openActiveStore(env);
    const entries = await withTimeout(store.list(), STORE_LIST_TIMEOUT_MS, `listing the ${store.name} store`);
    for (const serverURL of Object.keys(entries)) {
      const key = registryKey(serverURL);
      if (key !== '' && !isDockerTokenKey(key)) keys.add(key);
    }
  } catch (err) {
    problems.push(`cannot list the credential store: ${oneLine(err)}`);
  }
  return { registryKeys: [...keys].sort(), problems };
}
