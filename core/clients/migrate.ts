/**
 * @module
 * `berth configure --migrate`: every plaintext credential in the client files moves into the active
 * store. An entry is written, read back and compared before it leaves its file; each file is then
 * rewritten atomically (its mode kept) with only the secret fields gone. A registry with different
 * secrets in several files, or one berth already holds with another secret, is reported and left
 * where it is: berth does not guess which login is the right one.
 */
import { readFile } from 'node:fs/promises';
import { oneLine, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Env } from '../paths.js';
import type { Credentials, Store } from '../store/store.js';
import { scanPlaintext, stripSecrets, type PlaintextEntry, type PlaintextFile } from './plaintext.js';

export interface Migration {
  /** Registries moved (or, in a dry run, to be moved) into the store, with their user name. */
  moved: { registryKey: string; username: string; files: string[] }[];
  /** One line per registry left in its files, and why. */
  leftBehind: string[];
  /** One line per file that could not be read or parsed (left untouched). */
  problems: string[];
  /** Each file's text before and after; `after === before` when nothing changes. */
  files: { file: PlaintextFile; after: string }[];
}

const same = (a: { username: string; secret: string }, b: Credentials | undefined) => a.username === b?.username && a.secret === b?.secret;

function groupByRegistry(entries: readonly PlaintextEntry[]): Map<string, PlaintextEntry[]> {
  const groups = new Map<string, PlaintextEntry[]>();
  for (const entry of entries) groups.set(entry.registryKey, [...(groups.get(entry.registryKey) ?? []), entry]);
  return groups;
}

/** Moves what can be moved; with `dryRun` only plans it. Never throws for one bad entry. */
export async function migratePlaintext(env: Env, store: Store, { dryRun = false } = {}): Promise<Migration> {
  const scan = await scanPlaintext(env);
  const migration: Migration = { moved: [], leftBehind: [], problems: [...scan.problems], files: [] };
  for (const entry of scan.unmovable) migration.leftBehind.push(`${entry.file.path}: ${entry.name}: ${entry.reason}`);
  const removable = new Map<PlaintextFile, string[]>();
  for (const [key, entries] of groupByRegistry(scan.entries)) {
    const paths = [...new Set(entries.map((entry) => entry.file.path))];
    const first = entries[0]!;
    if (entries.some((entry) => entry.username !== first.username || entry.secret !== first.secret)) {
      migration.leftBehind.push(
        `${key} has different logins in ${paths.join(', ')}; nothing moved (remove the stale one, or: berth login ${key})`,
      );
      continue;
    }
    try {
      const existing = await store.get(key);
      if (existing && !same(first, existing)) {
        migration.leftBehind.push(
          `${key}: berth's ${store.name} store already holds another login (${existing.username}); the one in ${paths.join(', ')} is left there`,
        );
        continue;
      }
      if (!dryRun && !existing) {
        await store.set(key, { serverURL: key, username: first.username, secret: first.secret });
        if (!same(first, await store.get(key))) {
          migration.leftBehind.push(`${key}: the ${store.name} store did not give back what was written; left in ${paths.join(', ')}`);
          continue;
        }
      }
    } catch (err) {
      migration.leftBehind.push(`${key}: ${oneLine(err)}; left in ${paths.join(', ')}`);
      continue;
    }
    migration.moved.push({ registryKey: key, username: first.username, files: paths });
    for (const entry of entries) removable.set(entry.file, [...(removable.get(entry.file) ?? []), entry.name]);
  }
  for (const file of scan.files) {
    const names = removable.get(file) ?? [];
    migration.files.push({ file, after: names.length === 0 ? file.text : stripSecrets(file, names) });
  }
  if (!dryRun) await writeFiles(migration);
  return migration;
}

/** Rewrites each changed file, unless someone (a `docker login`) changed it since it was read. */
async function writeFiles(migration: Migration): Promise<void> {
  for (const { file, after } of migration.files) {
    if (after === file.text) continue;
    const current = await readFile(file.realPath, 'utf8').catch(() => undefined);
    if (current !== file.text) {
      throw new UsageError(`${file.path} changed while berth was migrating it; its secrets are in the store, the file is unchanged`, {
        hint: 'run berth configure --migrate again',
      });
    }
    await writeFileAtomic(file.realPath, after, { mode: file.mode });
  }
}
