/**
 * @module
 * berth's config file (`$XDG_CONFIG_HOME/berth/config.json`, or `BERTH_CONFIG`): the store to use and
 * the named registry configurations. Validated with a schema; an error names the bad field and its
 * line. A missing file is an empty configuration.
 */
import { importPackage } from '../io/import-package.js';
import * as v from 'valibot';
import { UsageError } from '../errors.js';

import { CONFIG_STORE_NAMES, PROVIDER_NAMES } from './names.js';

export { PROVIDER_NAMES, type ProviderName } from './names.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const RegistrySchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(NAME_PATTERN, 'must be letters, digits, ".", "_" or "-"')),
  provider: v.picklist(PROVIDER_NAMES),
  /** The registry's host[:port], as clients name it. */
  host: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  /** Provider-specific settings (profile, role, key file, tenant…); each provider checks its own. */
  options: v.optional(v.record(v.string(), v.union([v.string(), v.number(), v.boolean()]))),
  /** Only image references under this repository prefix use this entry. */
  prefix: v.optional(v.string()),
  default: v.optional(v.boolean()),
  /** The registry whose credentials stand in when this one's provider keeps failing. */
  fallback: v.optional(v.string()),
});

const ConfigSchema = v.strictObject({
  store: v.optional(v.picklist(CONFIG_STORE_NAMES)),
  registries: v.optional(v.array(RegistrySchema)),
  daemon: v.optional(
    v.strictObject({
      autoStart: v.optional(v.boolean()),
      socket: v.optional(v.string()),
    }),
  ),
});

export type RegistryConfig = v.InferOutput<typeof RegistrySchema>;
export type Config = v.InferOutput<typeof ConfigSchema>;

export async function parseConfig(text: string, path: string): Promise<Config> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const result = v.safeParse(ConfigSchema, raw);
  if (!result.success) {
    const issue = result.issues[0];
    const keys = (issue.path ?? []).map((item) => item.key as string | number);
    const field = keys.length ? keys.join('.') : '(top level)';
    throw new UsageError(`config file ${path}, line ${await lineOf(text, keys)}: ${field}: ${issue.message}`);
  }
  await checkRegistries(result.output, text, path);
  return result.output;
}

async function checkRegistries(config: Config, text: string, path: string): Promise<void> {
  const registries = config.registries ?? [];
  const fail = async (index: number, field: string, message: string): Promise<never> => {
    const line = await lineOf(text, ['registries', index, field]);
    throw new UsageError(`config file ${path}, line ${line}: registries.${index}.${field}: ${message}`);
  };
  const names = new Set(registries.map((registry) => registry.name));
  const seen = new Set<string>();
  let defaults = 0;
  for (const [index, registry] of registries.entries()) {
    if (seen.has(registry.name)) await fail(index, 'name', `"${registry.name}" is used twice`);
    seen.add(registry.name);
    if (registry.default && ++defaults > 1) await fail(index, 'default', 'only one registry may be the default');
    if (registry.fallback !== undefined && (!names.has(registry.fallback) || registry.fallback === registry.name)) {
      await fail(index, 'fallback', `"${registry.fallback}" names no other registry`);
    }
  }
}

/** The 1-based line of a JSON path; jsonc-parser is loaded only on this error path. */
async function lineOf(text: string, keys: readonly (string | number)[]): Promise<number> {
  const { parseTree, findNodeAtLocation } = await importPackage(import('jsonc-parser'));
  const root = parseTree(text);
  let node = root && findNodeAtLocation(root, [...keys]);
  for (let depth = keys.length - 1; !node && root && depth >= 0; depth--) {
    node = findNodeAtLocation(root, keys.slice(0, depth));
  }
  const offset = node?.parent?.type === 'property' ? node.parent.offset : (node?.offset ?? 0);
  return text.slice(0, offset).split('\n').length;
}
