/**
 * @module
 * The one cross-process lock: every read-change-write of a shared file (a store, the token cache,
 * the config file) and the daemon's socket check hold it, so concurrent processes (parallel
 * `docker login`s, each its own helper) never interleave the steps of one update. The lock is a
 * proper-lockfile directory; a holder that crashed is taken over once its lock goes stale.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BerthError, StoreError, oneLine } from '../errors.js';
import { berthCacheDir, type Env } from '../paths.js';

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
 * Runs `work` holding the lock `lockPath` (created with its directory, 0700). `what` names the
 * locked thing in errors ("the file store", "config file /x"). A lock taken over while `work` ran
 * (a machine stalled past the stale time) is reported after the work, which has gone through.
 */
export async function withLock<T>(lockPath: string, what: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  // Loaded here, not at the top: `get` and `list` never lock, and the helper's start-up should not pay for it.
  const { default: lockfile } = await import('proper-lockfile');
  try {
    release = await lockfile.lock(dirname(lockPath), {
      lockfilePath: lockPath,
      realpath: false,
      stale: STALE_MS,
      retries: { retries: Math.ceil(LOCK_WAIT_MS / 100), minTimeout: 20, maxTimeout: 100, factor: 1.3, randomize: true },
      // proper-lockfile's default throws from a timer, which would crash the process with a stack.
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (err) {
    throw new LockError(`cannot lock ${what} (${lockPath}): ${oneLine(err)}`, { cause: err });
  }
  const result = await work().finally(() => release().catch(() => undefined));
  if (compromised) {
    throw new LockError(`lost the lock on ${what} (${lockPath}) while writing: ${oneLine(compromised)}`, {
      hint: 'run the command again, then check the result',
    });
  }
  return result;
}

/** The lock on one store's writes: `<name>.lock` under berth's cache dir. Failures are StoreErrors. */
export async function withStoreLock<T>(env: Env, name: string, work: () => Promise<T>): Promise<T> {
  const lockPath = join(berthCacheDir(env), `${name}.lock`);
  try {
    return await withLock(lockPath, `the ${name} store`, work);
  } catch (err) {
    if (err instanceof LockError) throw new StoreError(err.message, { cause: err, ...(err.hint ? { hint: err.hint } : {}) });
    throw err;
  }
}
