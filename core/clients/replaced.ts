/**
 * @module
 * What `berth configure` replaced in a client file (a `credsStore` or `credHelpers` entry naming
 * another helper), kept in berth's own state file so `berth unconfigure` can put it back. Docker's
 * and containers' files get no keys of berth's own. One record per client file path.
 */
import { readFile } from 'node:fs/promises';
import { join } from '../io/path.js';
import { writeFileAtomic } from '../io/atomic.js';
import { berthDataDir, type Env } from '../paths.js';

export interface Replaced {
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

type ReplacedState = Record<string, Replaced>;

export function replacedStatePath(env: Env): string {
  return join(berthDataDir(env), 'replaced-helpers.json');
}

export async function readReplaced(env: Env): Promise<ReplacedState> {
  try {
    const parsed: unknown = JSON.parse(await readFile(replacedStatePath(env), 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as ReplacedState) : {};
  } catch {
    return {};
  }
}

/** Adds what was replaced in `path`; an earlier record wins (it holds the helper before berth). */
export async function rememberReplaced(env: Env, path: string, replaced: Replaced): Promise<void> {
  if (replaced.credsStore === undefined && Object.keys(replaced.credHelpers ?? {}).length === 0) return;
  const state = await readReplaced(env);
  const record = state[path] ?? {};
  record.credsStore ??= replaced.credsStore;
  record.credHelpers = { ...replaced.credHelpers, ...record.credHelpers };
  if (Object.keys(record.credHelpers).length === 0) delete record.credHelpers;
  state[path] = record;
  await writeFileAtomic(replacedStatePath(env), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export async function forgetReplaced(env: Env, path: string): Promise<void> {
  const state = await readReplaced(env);
  if (!(path in state)) return;
  delete state[path];
  await writeFileAtomic(replacedStatePath(env), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}
