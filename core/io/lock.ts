/**
 * @module
 * The one cross-process lock: every read-change-write of a shared file (a store, the token cache,
 * the config file) and the daemon's socket check hold it, so concurrent processes (parallel
 * `docker login`s, each its own helper) never interleave the steps of one update. The lock is a
 * proper-lockfile directory; a holder that was killed is taken over as soon as its process is gone
 * (it writes its pid into the lock), or once the lock goes stale. Breaking a lock races with the
 * processes that take and release it, so a holder checks that the lock is still its own right before
 * it replaces the file (`held`): a write never lands under a lock someone else holds.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from './path.js';
import { BerthError, StoreError, oneLine } from '../errors.js';
import { berthCacheDir, type Env } from '../paths.js';
import { loadPackage } from './packages.js';

/**
 * How long a writer waits for the lock before giving up with an error. Long: the lock is only ever
 * held for one write, so a long wait means a long queue (a parallel build logging in everywhere on a
 * slow keychain), not a dead holder; a dead holder's lock goes stale much sooner.
 */
const LOCK_WAIT_MS = 180_000;
/**
 * A lock not refreshed for this long belongs to a crashed process. Generous, because a holder's
 * refresh timer can be held up by a slow synchronous keychain call on a loaded machine.
 */
const STALE_MS = 20_000;

export class LockError extends BerthError {
  override name = 'LockError';
}

/**
 * Throws unless the lock is still this holder's: `work` calls it right before it replaces the locked
 * file (atomic.ts's `beforeRename`), so a write whose lock was taken over meanwhile does not land.
 */
export type StillHeld = () => Promise<void>;

/**
 * Runs `work` holding the lock `lockPath` (its directory created 0700). `what` names the locked
 * thing in errors ("the file store", "the config file"). A lock taken over while `work` ran (a
 * machine stalled past the stale time) fails `held`, or is reported after the work.
 */
export async function withLock<T>(
  lockPath: string,
  what: string,
  work: (held: StillHeld) => Promise<T>,
  { staleMs = STALE_MS }: { staleMs?: number } = {},
): Promise<T> {
  const dir = dirname(lockPath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let compromised: Error | undefined;
  let taken: Taken;
  // Loaded here, not at the top: `get` and `list` never lock, and the helper's start-up should not pay for it.
  const lockfile = await loadPackage('proper-lockfile');
  const options = {
    lockfilePath: lockPath,
    realpath: false,
    stale: staleMs,
    retries: 0,
    // The lock directory holds its owner's pid: removing a stale lock removes that too.
    fs: {
      ...fs,
      rmdir: (path: string, callback: (err: NodeJS.ErrnoException | null) => void) => fs.rm(path, { recursive: true }, callback),
    },
    // proper-lockfile's default throws from a timer, which would crash the process with a stack.
    onCompromised: (err: Error) => {
      compromised = err;
    },
  };
  try {
    // Keyed by the lock's own path: proper-lockfile keeps its in-process state by the locked path, so
    // two locks taken on one directory (with different lock files) would clobber each other.
    taken = await acquire(() => lockfile.lock(lockPath, options), lockPath);
  } catch (err) {
    throw new LockError(`cannot lock ${what} (${lockPath}): ${oneLine(err)}`, { cause: err });
  }
  const lost = (why: string) =>
    new LockError(`lost the lock on ${what} (${lockPath}) while writing: ${why}`, { hint: 'run the command again, then check the result' });
  const held: StillHeld = async () => {
    if (compromised) throw lost(oneLine(compromised));
    const owner = await readFile(join(lockPath, OWNER_FILE), 'utf8').catch(() => undefined);
    if (owner !== taken.owner) throw lost('another process took it over; nothing was written');
  };
  const result = await work(held).finally(() => taken.release().catch(() => undefined));
  if (compromised) throw lost(oneLine(compromised));
  return result;
}

/** The lock on one store's writes: `<name>.lock` under berth's cache dir. Failures are StoreErrors. */
export async function withStoreLock<T>(env: Env, name: string, work: (held: StillHeld) => Promise<T>): Promise<T> {
  const lockPath = join(berthCacheDir(env), `${name}.lock`);
  try {
    return await withLock(lockPath, `the ${name} store`, work);
  } catch (err) {
    if (err instanceof LockError) throw new StoreError(err.message, { cause: err, ...(err.hint ? { hint: err.hint } : {}) });
    throw err;
  }
}

/** A lock this process holds: what it wrote as its owner (undefined if that write failed), and its release. */
interface Taken {
  owner: string | undefined;
  release: () => Promise<void>;
}

/**
 * Takes the lock, waiting up to LOCK_WAIT_MS. The holder writes its pid into the lock, so a lock
 * whose holder was killed is broken as soon as a waiter sees the process gone, rather than after
 * STALE_MS without refreshes.
 */
async function acquire(lock: () => Promise<() => Promise<void>>, lockPath: string): Promise<Taken> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let delay = 10; ; delay = Math.min(100, delay * 1.3)) {
    try {
      const release = await lock();
      const ownerFile = join(lockPath, OWNER_FILE);
      const line = `${process.pid} ${hostname()} ${randomBytes(8).toString('hex')}\n`;
      // Writing the owner file changes the lock's mtime, which proper-lockfile, refreshing the lock
      // (every STALE_MS / 2), would take for a takeover: the mtime it saw is put back.
      const taken = await stat(lockPath).catch(() => undefined);
      const owner = await writeFile(ownerFile, line).then(
        () => line,
        () => undefined,
      );
      if (taken) await utimes(lockPath, taken.atime, taken.mtime).catch(() => undefined);
      return {
        owner,
        release: async () => {
          await unlink(ownerFile).catch(() => undefined);
          await release();
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED' || Date.now() > deadline) throw err;
      await breakIfHolderGone(lockPath);
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
    }
  }
}

const OWNER_FILE = 'owner';
/** What a holder writes into OWNER_FILE: `<pid> <hostname> <random>`. */
const OWNER_LINE = /^[0-9]+ \S+ [0-9a-f]+\n$/;

/**
 * Removes the lock when the process named in it is gone (same host only: a pid means nothing on
 * another machine sharing the directory). The lock is renamed aside first and its owner checked
 * again, so a lock someone took in the meantime is put back, not removed.
 */
async function breakIfHolderGone(lockPath: string): Promise<void> {
  const seen = await readFile(join(lockPath, OWNER_FILE), 'utf8').catch(() => undefined);
  // A holder killed while writing its pid leaves an empty or partial owner file: judge that lock by
  // its age, as one whose owner never came, rather than waiting for it to go stale.
  const named = seen !== undefined && OWNER_LINE.test(seen);
  const gone = named ? holderGone(seen) : await ownerNeverCame(lockPath);
  if (!gone) return;
  // The lock may have changed hands while that was checked: only the one judged is moved aside.
  if ((await readFile(join(lockPath, OWNER_FILE), 'utf8').catch(() => undefined)) !== seen) return;
  const aside = `${lockPath}.broken-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke or released it first
  }
  const moved = await readFile(join(aside, OWNER_FILE), 'utf8').catch(() => undefined);
  if (moved !== seen || (!named && !(await ownerNeverCame(aside)))) {
    await rename(aside, lockPath).catch(() => undefined);
    return;
  }
  await rm(aside, { recursive: true, force: true });
}

/**
 * A holder writes its pid within milliseconds of taking the lock (the write also touches the lock
 * directory): a lock without one after OWNER_GRACE_MS lost its holder in between.
 */
async function ownerNeverCame(lockPath: string): Promise<boolean> {
  const info = await stat(lockPath).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > OWNER_GRACE_MS;
}

const OWNER_GRACE_MS = 3_000;

function holderGone(owner: string): boolean {
  const [pid, host] = owner.trim().split(' ');
  if (host !== hostname() || !/^[0-9]+$/.test(pid ?? '')) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
