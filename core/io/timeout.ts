/** @module The one time limit for work that may hang (a locked keychain, a pinentry nobody answers, a silent bus). */
import { BerthError } from '../errors.js';

/**
 * `work`, or a rejection after `ms`: `what timed out after Ns` when `what` is a description, or the
 * error `what()` makes. The timer never keeps the process alive.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string | (() => Error)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(typeof what === 'string' ? new BerthError(`${what} timed out after ${ms / 1000}s`) : what()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
