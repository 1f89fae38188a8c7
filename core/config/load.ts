/**
 * @module
 * berth's config file (`$XDG_CONFIG_HOME/berth/config.json`, or `BERTH_CONFIG`): the store to use and
 * the named registry configurations. A missing file is an empty configuration; the schema
 * (core/config/schema.ts) is loaded only when there is a file to check. A bad registry entry is
 * skipped and reported in `problems`, so one typo does not break every other registry or the store.
 */
import { readFileSync } from 'node:fs';
import type { Config } from './schema.js';
import { UsageError } from '../errors.js';
import { berthConfigFile, type Env } from '../paths.js';

export type { Config, ProviderName, RegistryConfig } from './schema.js';

export interface LoadedConfig {
  path: string;
  exists: boolean;
  config: Config;
  /** Parts of the file that were skipped, one line each (file, line, field, what is wrong). */
  problems: string[];
}

export async function loadConfig(env: Env): Promise<LoadedConfig> {
  const path = berthConfigFile(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, config: {}, problems: [] };
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  const { parseConfigLenient } = await import('./schema.js');
  return { path, exists: true, ...(await parseConfigLenient(text, path)) };
}
