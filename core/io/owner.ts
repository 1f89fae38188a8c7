/**
 * @module
 * Who owns a file, for refusing secrets someone else could have planted: a token file handed to a
 * root daemon, a key file found in a shared working directory. The owner is named by user name
 * (from /etc/passwd) and uid, so the message says whom to ask.
 */
import { readFileSync } from 'node:fs';

/** The owner of a file when it is not the current user (undefined where uids do not exist). */
export function foreignOwner(stats: { uid: number }): string | undefined {
  if (typeof process.getuid !== 'function' || stats.uid === process.getuid()) return undefined;
  return describeUid(stats.uid);
}

/** `alice (uid 1000)`, or `uid 1000` when the user database has no name for it. */
export function describeUid(uid: number): string {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // no user database (a distroless image): the uid alone
  }
  const name = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[2] === String(uid))?.[0];
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}
