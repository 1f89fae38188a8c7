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

const DaemonSchema = v.strictObject({
  autoStart: v.optional(v.boolean()),
  socket: v.optional(v.string()),
});

/**
 * The file's top level. Registry entries are checked one by one afterwards, so one bad entry is
 * skipped with a problem instead of breaking every pull; a bad `store` still fails the whole file,
 * since guessing another store would hide the user's credentials.
 */
const TopLevelSchema = v.strictObject({
  store: v.optional(v.picklist(CONFIG_STORE_NAMES)),
  registries: v.optional(v.array(v.unknown())),
  daemon: v.optional(v.unknown()),
});

export type RegistryConfig = v.InferOutput<typeof RegistrySchema>;
export interface Config {
  store?: 'file' | 'keychain' | 'pass';
  registries?: RegistryConfig[];
  daemon?: v.InferOutput<typeof DaemonSchema>;
}

export interface ParsedConfig {
  config: Config;
  /** One line per entry that was skipped, naming the file, its line and the field. */
  problems: string[];
}

/** Parses a config file, throwing on the first problem: for edits, which must not make things worse. */
export async function parseConfig(text: string, path: string): Promise<Config> {
  const { config, problems } = await parseConfigLenient(text, path);
  if (problems.length > 0) throw new UsageError(problems[0]!.replace(/; (the entry|this section) .*$/, ''));
  return config;
}

/**
 * Parses a config file, skipping what is wrong in a registry entry or the daemon section (each
 * skipped part is a problem). Invalid JSON and a bad top level throw: nothing can be trusted then.
 */
export async function parseConfigLenient(text: string, path: string): Promise<ParsedConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const top = v.safeParse(TopLevelSchema, raw);
  if (!top.success) throw new UsageError(await describeIssue(text, path, top.issues[0], []));
  const problems: string[] = [];
  const config: Config = {};
  if (top.output.store !== undefined) config.store = top.output.store;
  if (top.output.daemon !== undefined) {
    const daemon = v.safeParse(DaemonSchema, top.output.daemon);
    if (daemon.success) config.daemon = daemon.output;
    else problems.push(`${await describeIssue(text, path, daemon.issues[0], ['daemon'])}; this section is ignored`);
  }
  if (top.output.registries !== undefined) {
    config.registries = await checkRegistries(top.output.registries, text, path, problems);
  }
  return { config, problems };
}

type Issue = v.BaseIssue<unknown>;

async function describeIssue(text: string, path: string, issue: Issue, prefix: (string | number)[]): Promise<string> {
  const keys = [...prefix, ...(issue.path ?? []).map((item) => item.key as string | number)];
  const field = keys.length ? keys.join('.') : '(top level)';
  return `config file ${path}, line ${await lineOf(text, keys)}: ${field}: ${issue.message}`;
}

/** The registry entries that are usable; every other one becomes a problem naming its line. */
async function checkRegistries(entries: unknown[], text: string, path: string, problems: string[]): Promise<RegistryConfig[]> {
  const skip = async (index: number, name: unknown, field: string | Issue, message?: string) => {
    const described =
      typeof field === 'string'
        ? `config file ${path}, line ${await lineOf(text, ['registries', index, field])}: registries.${index}.${field}: ${message}`
        : await describeIssue(text, path, field, ['registries', index]);
    problems.push(`${described}; the entry${typeof name === 'string' ? ` "${name}"` : ''} is skipped`);
  };
  const valid: { index: number; registry: RegistryConfig }[] = [];
  const names = new Set<string>();
  let hasDefault = false;
  for (const [index, entry] of entries.entries()) {
    const name = (entry as { name?: unknown } | null)?.name;
    const result = v.safeParse(RegistrySchema, entry);
    if (!result.success) {
      await skip(index, name, result.issues[0]);
      continue;
    }
    const registry = result.output;
    if (names.has(registry.name)) {
      await skip(index, name, 'name', `"${registry.name}" is used twice`);
      continue;
    }
    if (registry.default && hasDefault) {
      await skip(index, name, 'default', 'only one registry may be the default');
      continue;
    }
    names.add(registry.name);
    hasDefault ||= registry.default === true;
    valid.push({ index, registry });
  }
  const usable: RegistryConfig[] = [];
  for (const { index, registry } of valid) {
    if (registry.fallback !== undefined && (!names.has(registry.fallback) || registry.fallback === registry.name)) {
      await skip(index, registry.name, 'fallback', `"${registry.fallback}" names no other registry`);
      continue;
    }
    usable.push(registry);
  }
  return usable;
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
