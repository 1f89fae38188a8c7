/**
 * @module
 * The `pass` store: the GPG-encrypted password store, driven through the `pass` command, in the layout
 * docker-credential-pass uses, so a user can switch between the two without logging in again:
 * `docker-credential-helpers/<base64url(server URL)>/<username>.gpg`, the secret as the file's content.
 *
 * docker writes Docker Hub as `https://index.docker.io/v1/` and other registries as `host[:port]`,
 * which is exactly what `registryKey()` produces, so entries berth writes are found by both. Entries
 * written under another spelling of the same registry (`https://ghcr.io`) are found by matching each
 * folder's decoded name through `registryKey()`; a write replaces them, an erase removes them all.
 * Listing reads the folder names directly (as docker-credential-pass does), with no gpg call.
 */
import { createHash } from 'node:crypto';
import { readdir, rmdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from '../io/path.js';
import { StoreError, oneLine } from '../errors.js';
import { registryKey } from '../registry-host.js';
import type { Env } from '../paths.js';
import { CommandNotStartedError, CommandTimeoutError, runCommand } from '../io/run-command.js';
import { useFileStoreAdvice } from './fallback.js';
import type { Credential, Store, StoreContext } from './store.js';
import { type StillHeld, withStoreLock } from '../io/lock.js';

/** docker-credential-pass's folder inside the password store. */
export const PASS_FOLDER = 'docker-credential-helpers';
/** gpg may wait on a pinentry; this bounds every `pass` run. */
const PASS_TIMEOUT_MS = 30_000;

export async function openPassStore(ctx: StoreContext): Promise<Store> {
  const storeDir = passStoreDir(ctx.env);
  await checkInitialised(ctx.env, storeDir);
  return passStore(ctx.env, storeDir);
}

/** Where `pass` keeps its files: `$PASSWORD_STORE_DIR`, else `~/.password-store`. */
export function passStoreDir(env: Env): string {
  return env.PASSWORD_STORE_DIR || join(env.HOME || homedir(), '.password-store');
}

/** docker-credential-pass's folder name for a server URL: base64url, with padding, of the URL as given. */
export function encodeServerURL(serverURL: string): string {
  return Buffer.from(serverURL, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The server URL a folder name encodes, or undefined for a folder that is not such a name. */
export function decodeServerURL(name: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(name)) return undefined;
  const serverURL = Buffer.from(name, 'base64url').toString('utf8');
  return encodeServerURL(serverURL) === name ? serverURL : undefined;
}

/**
 * `pass` refuses to write without a recipient: `.gpg-id` in the entry's folder or above it, or
 * `PASSWORD_STORE_KEY`. Checked before any write so the user gets the command to run, not pass's usage.
 */
async function checkInitialised(env: Env, storeDir: string): Promise<void> {
  if (env.PASSWORD_STORE_KEY) return;
  for (const dir of [join(storeDir, PASS_FOLDER), storeDir]) {
    if (await isFile(join(dir, '.gpg-id'))) return;
  }
  throw new StoreError(
    `the pass store is not initialised (no .gpg-id in ${storeDir}): run "pass init <your-gpg-key-id>", or ${useFileStoreAdvice(env)}`,
    { hint: 'pass needs a GPG recipient: `pass init <key id>` writes .gpg-id; PASSWORD_STORE_KEY names one instead' },
  );
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/** One folder of the docker layout: a spelling of a registry, and the usernames filed under it. */
interface PassEntry {
  folder: string;
  serverURL: string;
  key: string;
  usernames: string[];
}

function passStore(env: Env, storeDir: string): Store {
  const locked = async <T>(key: string, work: (held: StillHeld) => Promise<T>) => withStoreLock(env, await lockName(storeDir, key), work);
  const matching = async (key: string) =>
    sortForKey(
      key,
      (await readEntries(storeDir)).filter((e) => e.key === key),
    );
  return {
    name: 'pass',
    set: (key, credentials) => locked(key, (held) => setEntry(env, storeDir, key, credentials, held)),
    async get(key) {
      const entry = (await matching(key)).find((e) => e.usernames.length > 0);
      const username = entry?.usernames[0];
      if (!entry || username === undefined) return undefined;
      const shown = await runPass(env, ['show', `${PASS_FOLDER}/${entry.folder}/${username}`]);
      // pass 1.7.1 and later end `show` output with a newline; docker-credential-pass trims them too.
      return { username, secret: shown.replace(/[\r\n]+$/, '') };
    },
    erase: (key) =>
      locked(key, async () => {
        for (const entry of await matching(key)) await runPass(env, ['rm', '-r', '-f', `${PASS_FOLDER}/${entry.folder}`]);
      }),
    async list() {
      const byKey = new Map<string, PassEntry[]>();
      for (const entry of await readEntries(storeDir)) {
        if (entry.usernames.length > 0) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), entry]);
      }
      const result: Record<string, string> = Object.create(null);
      for (const [key, entries] of byKey) result[key] = sortForKey(key, entries)[0]?.usernames[0] ?? '';
      return result;
    },
  };
}

/**
 * Writes to one registry are serialised (a write reads the registry's folders, then replaces them);
 * different registries are written in parallel, unless the store is a git repository: there every
 * `pass` write commits, and concurrent commits trip over git's index lock.
 */
async function lockName(storeDir: string, key: string): Promise<string> {
  const gitDirs = [join(storeDir, '.git'), join(storeDir, PASS_FOLDER, '.git')];
  const isGitRepository = (
    await Promise.all(
      gitDirs.map((dir) =>
        stat(dir).then(
          () => true,
          () => false,
        ),
      ),
    )
  ).some(Boolean);
  const scope = isGitRepository ? storeDir : `${storeDir}\0${key}`;
  return `pass-${createHash('sha256').update(scope).digest('hex').slice(0, 16)}`;
}

/** Writes the new entry first, then removes what it replaces: a failure never leaves the registry empty. */
async function setEntry(env: Env, storeDir: string, key: string, credential: Credential, held: StillHeld): Promise<void> {
  checkUsername(credential.username);
  const folder = encodeServerURL(key);
  await held();
  try {
    await runPass(env, ['insert', '-m', '-f', `${PASS_FOLDER}/${folder}/${credential.username}`], credential.secret);
  } catch (err) {
    // pass creates the folder before gpg runs. An empty folder left by a failed gpg makes
    // docker-credential-pass's list fail ("no usernames for …"); rmdir removes it only if it is empty.
    await rmdir(join(storeDir, PASS_FOLDER, folder)).catch(() => undefined);
    throw err;
  }
  for (const entry of (await readEntries(storeDir)).filter((e) => e.key === key)) {
    if (entry.folder !== folder) {
      await runPass(env, ['rm', '-r', '-f', `${PASS_FOLDER}/${entry.folder}`]);
      continue;
    }
    // docker-credential-pass reads the first username in the folder: leave only the new one.
    for (const username of entry.usernames.filter((u) => u !== credential.username)) {
      await runPass(env, ['rm', '-f', `${PASS_FOLDER}/${folder}/${username}`]);
    }
  }
}

/** The username becomes a file name in the store: it must stay one file, inside the folder. */
function checkUsername(username: string): void {
  if (username.includes('/') || username.includes('\0') || username.startsWith('.')) {
    throw new StoreError(`the pass store cannot keep the username "${username}": it would not be a single file name`, {
      hint: 'a username for the pass store must not contain "/" or start with "."',
    });
  }
}

/** The exact spelling docker would use first, then the others in name order. */
function sortForKey(key: string, entries: PassEntry[]): PassEntry[] {
  const exact = encodeServerURL(key);
  return [...entries].sort((a, b) => Number(b.folder === exact) - Number(a.folder === exact));
}

async function readEntries(storeDir: string): Promise<PassEntry[]> {
  const root = join(storeDir, PASS_FOLDER);
  const folders = await readdirOrEmpty(root);
  const entries: PassEntry[] = [];
  for (const folder of folders.filter((f) => f.isDirectory()).map((f) => f.name)) {
    const serverURL = decodeServerURL(folder);
    // Folders that are not docker's base64 names belong to someone else: leave them alone.
    if (serverURL === undefined || registryKey(serverURL) === '') continue;
    const files = await readdirOrEmpty(join(root, folder));
    const usernames = files.filter((f) => f.isFile() && f.name.endsWith('.gpg')).map((f) => f.name.slice(0, -'.gpg'.length));
    entries.push({ folder, serverURL, key: registryKey(serverURL), usernames });
  }
  return entries;
}

async function readdirOrEmpty(dir: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StoreError(`cannot read the pass store folder ${dir}: ${oneLine(err)}`, { cause: err });
  }
}

/** Runs `pass` with the secret, if any, on stdin; every failure becomes one line naming what to do. */
async function runPass(env: Env, args: string[], input?: string): Promise<string> {
  const action = `pass ${args[0]}`;
  let result;
  try {
    result = await runCommand('pass', args, { env, input: input ?? '', timeoutMs: PASS_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof CommandNotStartedError && err.code === 'ENOENT') {
      throw new StoreError(
        `the pass command is not installed (not found in PATH); install pass (Debian/Ubuntu: apt install pass), or ${useFileStoreAdvice(env)}`,
      );
    }
    if (err instanceof CommandTimeoutError) {
      throw new StoreError(`${action} did not finish within ${PASS_TIMEOUT_MS / 1000}s`, {
        hint: 'gpg may be waiting for a passphrase: unlock the key in gpg-agent first (e.g. by running pass show once)',
      });
    }
    throw new StoreError(`cannot run ${action}: ${oneLine(err)}`, { cause: err });
  }
  if (result.code !== 0) throw passFailure(env, action, result.stderr);
  return result.stdout;
}

/** pass's and gpg's stderr, reduced to the line that says what went wrong. stdout may hold a secret: never used. */
function passFailure(env: Env, action: string, stderr: string): StoreError {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.some((l) => l.startsWith('Error: You must run'))) {
    return new StoreError(`the pass store is not initialised: run "pass init <your-gpg-key-id>", or ${useFileStoreAdvice(env)}`);
  }
  const gpgLines = lines.filter((l) => l.startsWith('gpg:'));
  if (gpgLines.length > 0) {
    const reason = gpgLines.find((l) => /fail|no (public|secret) key|skipped/i.test(l)) ?? gpgLines[gpgLines.length - 1];
    return new StoreError(`${action} failed: ${reason}`, {
      hint: "check that the key named in the store's .gpg-id is in your keyring: gpg --list-secret-keys",
    });
  }
  return new StoreError(`${action} failed: ${lines[lines.length - 1] ?? 'no error message'}`);
}
