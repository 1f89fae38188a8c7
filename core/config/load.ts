/**
 * @module
 * berth's config file (`$XDG_CONFIG_HOME/berth/config.json`, or `BERTH_CONFIG`): the store to use and
 * the named registry configurations. A missing file is an empty configuration; the schema
 * (core/config/schema.ts) is loaded only when there is a file to check.
 */
import { readFileSync } from 'node:fs';
import type { Config } from './schema.js';
import { UsageError } from '../errors.js';
import { berthConfigFile, type Env } from '../paths.js';

export type { Config, RegistryConfig } from './schema.js';
export type { ProviderName } from '../providers/index.js';

export interface LoadedConfig {
  path: string;
  exists: boolean;
  config: Config;
}

export async function loadConfig(env: Env): Promise<LoadedConfig> {
  const path = berthConfigFile(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, config: {} };
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  const { parseConfig } = await import('./schema.js');
  return { path, exists: true, config: await parseConfig(text, path) };
}
