/**
 * @module
 * Where the key for `encrypt`/`decrypt`/`rekey` comes from: `--key-path`, then `BERTH_AES_KEY`
 * (base64 in the environment), then `./berth.aes`, then `./codeship.aes` (the `jet encrypt` name).
 * Every place tried is kept, so "no key found" can say where it looked.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Env } from '../paths.js';
import { NoKeyError } from './errors.js';
import { parseKey, readKeyFile } from './key.js';

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
    if (await exists(path)) return loadKeyFile(path, `./${name}`);
  }
  throw new NoKeyError(['--key-path', KEY_ENV, ...DEFAULT_KEY_FILES.map((name) => `./${name}`)]);
}

async function loadKeyFile(path: string, shown: string): Promise<FoundKey> {
  const key = await readKeyFile(path);
  const warnings: string[] = [];
  const mode = (await stat(path)).mode & 0o777;
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
