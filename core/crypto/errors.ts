/**
 * @module
 * The errors an encrypted file can raise, one class per thing the user can fix differently: a
 * missing or malformed key, a file made for other keys, tampered or truncated data, something that
 * is not a berth file at all. All are FormatErrors so callers can catch the family.
 */
import { FormatError } from '../errors.js';

/** The key file (or `BERTH_AES_KEY`) is not 44 characters of base64 holding 32 bytes. */
export class KeyFormatError extends FormatError {
  override name = 'KeyFormatError';
}

/** No key was given and none was found where berth looks. */
export class NoKeyError extends FormatError {
  override name = 'NoKeyError';
  readonly searched: readonly string[];
  constructor(searched: readonly string[]) {
    super(`no key found (looked in ${searched.join(', ')})`, {
      hint: 'create one with `berth keygen`, or pass --key-path FILE or set BERTH_AES_KEY',
    });
    this.searched = searched;
  }
}

/** The file was encrypted for other keys; both sides are named by key id. */
export class WrongKeyError extends FormatError {
  override name = 'WrongKeyError';
  readonly fileKeyIds: readonly string[];
  /** The first key tried; `givenKeyIds` holds every one, in the order they were tried. */
  readonly givenKeyId: string;
  readonly givenKeyIds: readonly string[];
  constructor(fileKeyIds: readonly string[], givenKeyIds: string | readonly string[], message?: string) {
    const given = typeof givenKeyIds === 'string' ? [givenKeyIds] : givenKeyIds;
    const yours = given.length === 1 ? `your key is ${given[0]}` : `your keys are ${given.join(', ')}`;
    super(message ?? `wrong key: the file is encrypted for ${fileKeyIds.join(', ')}; ${yours}`, {
      hint: 'pass the right key with --key-path (`berth key-id --key-path FILE` prints the id of a key)',
    });
    this.fileKeyIds = fileKeyIds;
    this.givenKeyId = given[0] ?? '';
    this.givenKeyIds = given;
  }
}

/** Authentication failed: the header or a chunk was changed, reordered or swapped. */
export class TamperedError extends FormatError {
  override name = 'TamperedError';
}

/** The file ends before its final chunk. */
export class TruncatedError extends FormatError {
  override name = 'TruncatedError';
}

/** The input is not a berth encrypted file (or a format berth knows it cannot read). */
export class NotBerthFileError extends FormatError {
  override name = 'NotBerthFileError';
}

/** Puts the file's name in front of an error about its content, keeping class and hint. */
export function inFile<E extends Error>(err: E, file: string): E {
  if (err instanceof FormatError && !err.message.startsWith(`${file}: `)) err.message = `${file}: ${err.message}`;
  return err;
}
