/**
 * @module
 * berth's config file (`$XDG_CONFIG_HOME/berth/config.json`, or `BERTH_CONFIG`): the store to use and
 * the named registry configurations. A missing file is an empty configuration; the schema
 * (core/config/schema.ts) is loaded only when there is a file to check, and not at all on the hot
 * paths (`lenient`: the helper's `get`, `generate`) when the fields they read look right. A bad
 * registry entry is skipped and reported in `problems`, so one typo does not break every other
 * registry or the store.
 */
import type { Config } from './schema.js';
import { UsageError } from '../errors.js';
import { PROVIDER_NAMES } from '../providers/names.js';
import { STORE_NAMES } from '../store/store.js';
import { berthConfigFile, type Env } from '../paths.js';
import { readFileIfExists } from '../io/sys.js';

export type { Config, RegistryConfig } from './schema.js';
export type { ProviderName } from '../providers/names.js';

export interface LoadedConfig {
  path: string;
  exists: boolean;
  config: Config;
  /** Parts of the file that were skipped, one line each (file, line, field, what is wrong). */
  problems: string[];
}

export interface LoadOptions {
  /**
   * Check only what a resolve reads (the store, the daemon settings, each registry's fields, by
   * type), not unknown keys nor how registries relate. A file that fails even that gets the full
   * check, so its error is the same one line with the field and line.
   */
  lenient?: boolean;
}

/** How a caller that has loaded the config already hands it on (the helper's `get` reads the file once). */
export type ConfigLoader = () => Promise<LoadedConfig>;

export async function loadConfig(env: Env, options: LoadOptions = {}): Promise<LoadedConfig> {
  const path = berthConfigFile(env);
  let text: string;
  try {
    const bytes = await readFileIfExists(path);
    if (!bytes) return { path, exists: false, config: {}, problems: [] };
    text = bytes.toString('utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (options.lenient) {
    const quick = readUsedFields(text);
    if (quick) return { path, exists: true, config: quick, problems: [] };
  }
  const { parseConfigLenient } = await import('./schema.js');
  return { path, exists: true, ...(await parseConfigLenient(text, path)) };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const optional = (value: unknown, type: 'string' | 'boolean') => value === undefined || typeof value === type;

/** The config if the fields a resolve reads have the right types, else undefined (then: the full check). */
function readUsedFields(text: string): Config | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(raw)) return undefined;
  const { store, daemon, registries } = raw;
  if (store !== undefined && !(STORE_NAMES as readonly unknown[]).includes(store)) return undefined;
  if (daemon !== undefined && !(isObject(daemon) && optional(daemon.autoStart, 'boolean') && optional(daemon.socket, 'string'))) {
    return undefined;
  }
  if (registries !== undefined && !(Array.isArray(registries) && registries.every(registryLooksRight))) return undefined;
  return raw as Config;
}

function registryLooksRight(registry: unknown): boolean {
  if (!isObject(registry)) return false;
  const { name, provider, host, options } = registry;
  return (
    typeof name === 'string' &&
    name !== '' &&
    (PROVIDER_NAMES as readonly unknown[]).includes(provider) &&
    typeof host === 'string' &&
    host !== '' &&
    optional(registry.prefix, 'string') &&
    optional(registry.default, 'boolean') &&
    optional(registry.fallback, 'string') &&
    (options === undefined ||
      (isObject(options) && Object.values(options).every((value) => ['string', 'number', 'boolean'].includes(typeof value))))
  );
}
