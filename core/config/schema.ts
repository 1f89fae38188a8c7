/**
 * @module
 * berth's config file (`$XDG_CONFIG_HOME/berth/config.json`, or `BERTH_CONFIG`): the store to use and
 * the named registry configurations. Validated with a schema; a problem names the field and its line
 * and column, in berth's words. A missing file is an empty configuration. One bad registry entry is
 * skipped with a problem instead of breaking every pull; invalid JSON or a bad `store` fails the
 * whole file, since guessing another store would hide the user's credentials.
 */
import type { ParseError } from 'jsonc-parser';
import * as v from 'valibot';
import { UsageError, oneLine } from '../errors.js';
import { loadPackage } from '../io/packages.js';
import { PROVIDER_NAMES } from '../providers/index.js';
import { STORE_NAMES, type StoreName } from '../store/store.js';
import { describeSyntaxError, lineAndColumn } from './json-errors.js';
import { editDistance } from '../io/edit-distance.js';

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

/** The file's top level; registry entries and the daemon section are checked one by one afterwards. */
const TopLevelSchema = v.strictObject({
  store: v.optional(v.picklist(STORE_NAMES)),
  registries: v.optional(v.array(v.unknown())),
  daemon: v.optional(v.unknown()),
});

export type RegistryConfig = v.InferOutput<typeof RegistrySchema>;
export interface Config {
  store?: StoreName;
  registries?: RegistryConfig[];
  daemon?: v.InferOutput<typeof DaemonSchema>;
}

export interface ParsedConfig {
  config: Config;
  /** One line per part that was skipped, naming the file, its line and column, and the field. */
  problems: string[];
}

/** Parses a config file, throwing on the first problem: for edits, which must not make things worse. */
export async function parseConfig(text: string, path: string): Promise<Config> {
  const { config, errors } = await parse(text, path);
  if (errors[0]) throw errors[0].error;
  return config;
}

/**
 * Parses a config file, skipping what is wrong in a registry entry or the daemon section (each
 * skipped part is a problem). Invalid JSON and a bad top level throw: nothing can be trusted then.
 */
export async function parseConfigLenient(text: string, path: string): Promise<ParsedConfig> {
  const { config, errors } = await parse(text, path);
  return { config, problems: errors.map(({ error, skipped }) => `${error.message}; ${skipped}${error.hint ? ` (${error.hint})` : ''}`) };
}

interface Skipped {
  error: UsageError;
  /** What was left out because of it: `the entry "prod" is skipped`. */
  skipped: string;
}

async function parse(text: string, path: string): Promise<{ config: Config; errors: Skipped[] }> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw await syntaxError(text, path, err);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`${path}:1:1: expected an object with "store", "registries" or "daemon"`);
  }
  const top = v.safeParse(TopLevelSchema, raw);
  if (!top.success) throw await issueError(text, path, pickIssue(top.issues), []);
  const errors: Skipped[] = [];
  const config: Config = {};
  if (top.output.store !== undefined) config.store = top.output.store;
  if (top.output.daemon !== undefined) {
    const daemon = v.safeParse(DaemonSchema, top.output.daemon);
    if (daemon.success) config.daemon = daemon.output;
    else errors.push({ error: await issueError(text, path, pickIssue(daemon.issues), ['daemon']), skipped: 'this section is ignored' });
  }
  if (top.output.registries !== undefined) config.registries = await checkRegistries(top.output.registries, text, path, errors);
  return { config, errors };
}

/** The registry entries that are usable; every other one becomes a problem naming its line. */
async function checkRegistries(entries: unknown[], text: string, path: string, errors: Skipped[]): Promise<RegistryConfig[]> {
  const skip = async (index: number, name: unknown, error: UsageError | { field: string; message: string }) => {
    const prefix = ['registries', index];
    const described =
      error instanceof UsageError
        ? error
        : new UsageError(
            `${await positionOf(text, path, [...prefix, error.field])}: ${fieldName([...prefix, error.field])}: ${error.message}`,
          );
    errors.push({ error: described, skipped: `the entry${typeof name === 'string' ? ` "${name}"` : ''} is skipped` });
  };
  const valid: { index: number; registry: RegistryConfig }[] = [];
  const names = new Set<string>();
  let hasDefault = false;
  for (const [index, entry] of entries.entries()) {
    const name = (entry as { name?: unknown } | null)?.name;
    const result = v.safeParse(RegistrySchema, entry);
    if (!result.success) {
      await skip(index, name, await issueError(text, path, pickIssue(result.issues), ['registries', index]));
      continue;
    }
    const registry = result.output;
    if (names.has(registry.name)) {
      await skip(index, name, { field: 'name', message: `"${registry.name}" is used twice` });
      continue;
    }
    if (registry.default && hasDefault) {
      await skip(index, name, { field: 'default', message: 'only one registry may be the default' });
      continue;
    }
    names.add(registry.name);
    hasDefault ||= registry.default === true;
    valid.push({ index, registry });
  }
  const usable: RegistryConfig[] = [];
  for (const { index, registry } of valid) {
    if (registry.fallback !== undefined && (!names.has(registry.fallback) || registry.fallback === registry.name)) {
      await skip(index, registry.name, { field: 'fallback', message: `"${registry.fallback}" names no other registry` });
      continue;
    }
    usable.push(registry);
  }
  return usable;
}

type Issue = v.BaseIssue<unknown>;

/** A misspelt field also leaves the real one missing: name the misspelling, it is the mistake. */
function pickIssue(issues: readonly [Issue, ...Issue[]]): Issue {
  return issues.find(isUnknownField) ?? issues[0];
}

/** The problem an issue describes, at its line and column; `prefix` is where the checked part sits. */
async function issueError(text: string, path: string, issue: Issue, prefix: (string | number)[]): Promise<UsageError> {
  const keys = [...prefix, ...(issue.path ?? []).map((item) => item.key as string | number)];
  const where = await positionOf(text, path, keys, issue);
  if (isUnknownField(issue)) return unknownField(where, keys);
  if (issue.received === 'undefined') return new UsageError(`${where}: ${parentPrefix(keys)}missing field "${String(keys.at(-1))}"`);
  return new UsageError(`${where}: ${fieldName(keys)}: ${describeIssue(issue)}`);
}

/** `registries[1].options.region`, as a person would write the field. */
function fieldName(keys: readonly (string | number)[]): string {
  if (keys.length === 0) return '(top level)';
  return keys.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`)).join('');
}

/** The fields an object in the file may have, to name them when one is misspelt. */
function knownFields(keys: readonly (string | number)[]): readonly string[] {
  if (keys.length === 1) return Object.keys(TopLevelSchema.entries);
  if (keys[0] === 'registries') return Object.keys(RegistrySchema.entries);
  if (keys[0] === 'daemon') return ['autoStart', 'socket'];
  return [];
}

function isUnknownField(issue: Issue): boolean {
  return issue.type === 'strict_object' && issue.expected === 'never';
}

/** `registries[1]: unknown field "hots"`, with the likely intended field as the hint. */
function unknownField(where: string, keys: readonly (string | number)[]): UsageError {
  const field = String(keys.at(-1));
  const known = knownFields(keys);
  const near = known.find((name) => looksLike(name.toLowerCase(), field.toLowerCase()));
  const list = `the fields here are ${known.join(', ')}`;
  return new UsageError(`${where}: ${parentPrefix(keys)}unknown field "${field}"`, {
    hint: near ? `did you mean "${near}"? ${list}` : list,
  });
}

/** `registries[1]: ` for a field of that object; nothing at the top level. */
function parentPrefix(keys: readonly (string | number)[]): string {
  return keys.length > 1 ? `${fieldName(keys.slice(0, -1))}: ` : '';
}

/** A likely misspelling: two edits apart, or the same first five letters (`registry` for `registries`). */
function looksLike(name: string, field: string): boolean {
  return editDistance(name, field) <= 2 || (field.length >= 5 && name.startsWith(field.slice(0, 5)));
}

/** An issue in berth's words: what is wrong with the field, never the schema library's sentence. */
function describeIssue(issue: Issue): string {
  if (issue.kind === 'validation') return issue.message; // our own words, from the schema's pipes
  if (issue.type === 'picklist') return `must be one of ${choices(issue.expected)}, not ${issue.received}`;
  return `must be ${article(choices(issue.expected ?? ''))}, not ${receivedName(issue.received)}`;
}

/** `("ecr" | "static")` → `"ecr", "static"`; `(string | number | boolean)` → `string, number or boolean`. */
function choices(expected: string | null): string {
  const list = (expected ?? '').replace(/^\(|\)$/g, '').split(' | ');
  const words = list.map((item) => (item === 'Array' ? 'list' : item === 'Object' ? 'object' : item));
  return words.length > 1 && !words[0]!.startsWith('"') ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : words.join(', ');
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function receivedName(received: string): string {
  if (received === 'Array') return 'a list';
  if (received === 'Object') return 'an object';
  return received;
}

/** `path:line:column` of a field; jsonc-parser is loaded only on this error path. */
async function positionOf(text: string, path: string, keys: readonly (string | number)[], issue?: Issue): Promise<string> {
  const { parseTree, findNodeAtLocation } = await loadPackage('jsonc-parser');
  const root = parseTree(text);
  // A missing field is reported at the object that lacks it.
  const wanted = issue?.received === 'undefined' ? keys.slice(0, -1) : keys;
  let node = root && findNodeAtLocation(root, [...wanted]);
  // An unknown field has no value in the schema's eyes; find its key among the object's properties.
  if (!node && root && wanted.length > 0) {
    const parent = findNodeAtLocation(root, wanted.slice(0, -1));
    node = parent?.children?.find((property) => property.children?.[0]?.value === wanted.at(-1))?.children?.[1];
  }
  for (let depth = wanted.length - 1; !node && root && depth >= 0; depth--) node = findNodeAtLocation(root, wanted.slice(0, depth));
  const offset = node?.parent?.type === 'property' ? node.parent.offset : (node?.offset ?? 0);
  return `${path}:${lineAndColumn(text, offset)}`;
}

/** Where strict JSON first breaks, as `path:line:column: not valid JSON: …`. */
async function syntaxError(text: string, path: string, err: unknown): Promise<UsageError> {
  if (text.trim() === '') return new UsageError(`${path}: the file is empty`, { hint: 'an empty configuration is {}' });
  const { parse, printParseErrorCode } = await loadPackage('jsonc-parser');
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return new UsageError(`${path}: not valid JSON (${oneLine(err)})`);
  const { position, problem } = describeSyntaxError(text, first.offset, printParseErrorCode(first.error));
  return new UsageError(`${path}:${position}: not valid JSON: ${problem}`);
}
