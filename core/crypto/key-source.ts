/**
 * @module
 * Where the key for `encrypt`/`decrypt`/`rekey` comes from: `--key-path`, then `BERTH_AES_KEY`
 * (base64 in the environment), then `./berth.aes`, then `./codeship.aes` (the `jet encrypt` name).
 * Every place tried is kept, so "no key found" can say where it looked.
 */
import { stat } from 'node:fs/promises';
import { resolve } from '../io/path.js';
import type { Env } from '../paths.js';
import { foreignOwner } from '../io/owner.js';
import { oneLine, UsageError } from '../errors.js';
import { KeyFormatError, NoKeyError } from './errors.js';
import { parseKey, readKeyFile } from './key-text.js';

export const KEY_ENV = 'BERTH_AES_KEY';
/** berth's own key variables: `berth exec` removes them from the command's environment. */
export const KEY_VARIABLES: readonly string[] = [KEY_ENV];
export const DEFAULT_KEY_FILES = ['berth.aes', 'codeship.aes'] as const;

export interface FoundKey {
  key: Buffer;
  /** Where it came from, for messages: a path or `BERTH_AES_KEY`. */
  source: string;
  /** Non-fatal problems, such as a key file others can read. */
  warnings: string[];
}

export interface KeyLookup {
  keyPath?: string | undefined;
  env: Env;
  cwd: string;
}

export async function findKey({ keyPath, env, cwd }: KeyLookup): Promise<FoundKey> {
  if (keyPath !== undefined) return loadKeyFile(resolve(cwd, keyPath), keyPath);
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { key: parseKey(fromEnv, KEY_ENV), source: KEY_ENV, warnings: [] };
  for (const name of DEFAULT_KEY_FILES) {
    const path = resolve(cwd, name);
    if (await exists(path)) return loadKeyFile(path, `./${name}`, { ownOnly: true });
  }
  throw new NoKeyError(['--key-path', KEY_ENV, ...DEFAULT_KEY_FILES.map((name) => `./${name}`)]);
}

/**
 * `ownOnly`: a key found in the current directory (not named by the user) must be the user's own:
 * in a shared directory anyone could have planted it, and files encrypted with it would be theirs
 * to read.
 */
/**
 * Every key found, in lookup order: the first place that has a key must hold a good one (its error
 * is the user's to fix); later keys that cannot be used are left out, so a broken spare does not
 * stop a file that the first key opens. Opening a file tries them all and uses the one it names.
 */
export async function findKeys({ keyPath, env, cwd }: KeyLookup): Promise<FoundKey[]> {
  const loaders: (() => Promise<FoundKey | undefined>)[] = [];
  if (keyPath !== undefined) loaders.push(() => loadKeyFile(resolve(cwd, keyPath), keyPath));
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '')
    loaders.push(async () => ({ key: parseKey(fromEnv, KEY_ENV), source: KEY_ENV, warnings: [] }));
  for (const name of DEFAULT_KEY_FILES) {
    const path = resolve(cwd, name);
    loaders.push(async () => ((await exists(path)) ? loadKeyFile(path, `./${name}`, { ownOnly: true }) : undefined));
  }
  const found: FoundKey[] = [];
  for (const load of loaders) {
    if (found.length === 0) {
      const key = await load();
      if (key) found.push(key);
      continue;
    }
    const key = await load().catch(() => undefined);
    if (key && !found.some((other) => other.key.equals(key.key))) found.push(key);
  }
  if (found.length === 0) throw new NoKeyError(['--key-path', KEY_ENV, ...DEFAULT_KEY_FILES.map((name) => `./${name}`)]);
  return found;
}

async function loadKeyFile(path: string, shown: string, { ownOnly = false } = {}): Promise<FoundKey> {
  const stats = await stat(path).catch((err: NodeJS.ErrnoException) => {
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : oneLine(err);
    throw new UsageError(`cannot read key file ${path}: ${why}`, { cause: err });
  });
  const owner = ownOnly ? foreignOwner(stats) : undefined;
  if (owner) {
    throw new KeyFormatError(`key file ${shown} belongs to ${owner}, not to you; refusing to use it`, {
      hint: `pass a key of your own with --key-path or ${KEY_ENV}, or take it over: cp ${shown} mine.aes`,
    });
  }
  const key = await readKeyFile(path);
  const warnings: string[] = [];
  const mode = stats.mode & 0o777;
  if (mode & 0o077) {
    warnings.push(
      `key file ${shown} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${shown}`,
    );
  }
  return { key, source: shown, warnings };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
