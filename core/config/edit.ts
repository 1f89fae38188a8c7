/**
 * @module
 * Adding and removing registries in berth's config file. The file is edited in place with
 * jsonc-parser (every other field and its layout kept), checked against the schema before it is
 * written, and replaced atomically under a lock so two edits at once never lose one.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from '../io/path.js';
import type { Config, RegistryConfig } from './load.js';
import { parseConfig } from './schema.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadPackage } from '../io/packages.js';
import { withLock } from '../io/lock.js';
import { berthConfigFile, type Env } from '../paths.js';

const FORMATTING = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } };

type Edit = (text: string, config: Config, path: string) => Promise<string>;

/** Applies `edit` to the config file (an absent file is `{}`); the result must pass the schema. */
async function editConfigFile(env: Env, edit: Edit): Promise<string> {
  const path = berthConfigFile(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await withLock(`${path}.lock`, 'the config file', async (held) => {
    const { text, mode } = await readConfigText(path);
    const next = await edit(text, await parseConfig(text, path), path);
    await parseConfig(next, path);
    // Static registries may keep tokens in their options: a new file is private.
    await writeFileAtomic(path, next.endsWith('\n') ? next : `${next}\n`, { mode, beforeRename: held });
  });
  return path;
}

async function readConfigText(path: string): Promise<{ text: string; mode: number }> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, mode: info.mode & 0o777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '{}\n', mode: 0o600 };
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
}

async function modified(text: string, path: (string | number)[], value: unknown, insert = false): Promise<string> {
  const { applyEdits, modify } = await loadPackage('jsonc-parser');
  return applyEdits(text, modify(text, path, value, { ...FORMATTING, isArrayInsertion: insert }));
}

/** Adds a registry; with `default`, the previous default stops being one. Returns the file's path. */
export function addRegistry(env: Env, registry: RegistryConfig): Promise<string> {
  return editConfigFile(env, async (text, config, path) => {
    const registries = config.registries ?? [];
    if (registries.some((existing) => existing.name === registry.name)) {
      throw new UsageError(`registry "${registry.name}" already exists in ${path}`, {
        hint: `remove it first: berth registries remove ${registry.name}`,
      });
    }
    if (registry.fallback !== undefined && !registries.some((existing) => existing.name === registry.fallback)) {
      throw new UsageError(`fallback "${registry.fallback}" names no registry in ${path}`, {
        hint: 'add the fallback registry first',
      });
    }
    let next = text;
    if (registry.default) {
      for (const [index, existing] of registries.entries()) {
        if (existing.default !== undefined) next = await modified(next, ['registries', index, 'default'], undefined);
      }
    }
    if (config.registries === undefined) return modified(next, ['registries'], [registry]);
    return modified(next, ['registries', -1], registry, true);
  });
}

/** Removes a registry; refuses while another registry names it as its fallback. */
export function removeRegistry(env: Env, name: string): Promise<string> {
  return editConfigFile(env, async (text, config, path) => {
    const registries = config.registries ?? [];
    const index = registries.findIndex((registry) => registry.name === name);
    if (index < 0) throw new UsageError(`no registry named "${name}" in ${path}`);
    const dependents = registries.filter((registry) => registry.fallback === name).map((registry) => registry.name);
    if (dependents.length > 0) {
      throw new UsageError(`registry "${name}" is the fallback of ${dependents.map((d) => `"${d}"`).join(', ')}`, {
        hint: 'remove or change those registries first',
      });
    }
    return modified(text, ['registries', index], undefined);
  });
}
