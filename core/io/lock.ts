/**
 * @module
 * A cross-process lock for a store's writes, so concurrent `docker login`s (each its own helper
 * process) never interleave the steps of one update. The lock is a proper-lockfile directory under
 * berth's cache dir; a holder that crashed is taken over once its lock goes stale.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, oneLine } from '../errors.js';
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

export async function withStoreLock<T>(env: Env, name: string, work: () => Promise<T>): Promise<T> {
  const dir = berthCacheDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lockPath = join(dir, `${name}.lock`);
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  // Loaded here, not at the top: `get` and `list` never lock, and the helper's start-up should not pay for it.
  const { default: lockfile } = await import('proper-lockfile');
  try {
    // Locked by its own path (the lock file is `<path>.lock`): proper-lockfile keys its in-process
    // state by that path, so two locks under one `lockfilePath` directory would clobber each other.
    release = await lockfile.lock(join(dir, name), {
      realpath: false,
      stale: STALE_MS,
      retries: { retries: Math.ceil(LOCK_WAIT_MS / 100), minTimeout: 20, maxTimeout: 100, factor: 1.3 },
      // proper-lockfile's default throws from a timer, which would crash the process with a stack.
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (err) {
    throw new StoreError(`cannot lock the ${name} store (${lockPath}): ${oneLine(err)}`, { cause: err });
  }
  const result = await work().finally(() => release().catch(() => undefined));
  // Another process may have taken the lock over while this one worked (a machine stalled past the
  // stale time): the write itself went through, but a concurrent one might have interleaved.
  if (compromised) {
    throw new StoreError(`lost the ${name} store lock (${lockPath}) while writing: ${oneLine(compromised)}`, {
      hint: 'run the command again, then check the entry',
    });
  }
  return result;
}
